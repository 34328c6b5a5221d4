"""Each activity stub workflows call has an implementation of the same name and signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

import pytest
from temporalio import activity

from activities import contracts
from activities.database import OrderProjector
from activities.recognition import RollRecorder
from activities.sms import SmsSender
from activities.voice import FollowUpCaller

STUBS = (
    contracts.record_transition,
    contracts.pick_candidate,
    contracts.place_follow_up_call,
    contracts.send_sms,
    contracts.roll_figures,
    contracts.store_roll,
)
IMPLEMENTATIONS = (
    OrderProjector.record_transition,
    OrderProjector.pick_candidate,
    FollowUpCaller.place_follow_up_call,
    SmsSender.send_sms,
    RollRecorder.roll_figures,
    RollRecorder.store_roll,
)


def _name(fn: Callable[..., Any]) -> str:
    defn = activity._Definition.from_callable(fn)
    assert defn is not None and defn.name is not None, f"{fn.__qualname__} is not an activity"
    return defn.name


def _types(fn: Callable[..., Any]) -> list[Any]:
    hints = get_type_hints(fn)
    params = [p for p in inspect.signature(fn).parameters if p != "self"]
    return [hints[p] for p in params] + [hints["return"]]


@pytest.mark.parametrize(
    ("stub", "impl"), list(zip(STUBS, IMPLEMENTATIONS, strict=True)), ids=_name
)
def test_stub_and_implementation_agree(stub: Callable[..., Any], impl: Callable[..., Any]) -> None:
    assert _name(stub) == _name(impl)
    assert _types(stub) == _types(impl)


def test_a_stub_never_runs() -> None:
    with pytest.raises(NotImplementedError):
        contracts.pick_candidate(contracts.PickInput(order_id=1))
