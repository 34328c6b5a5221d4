"""Our data converter reads every message exactly as the SDK's own would, only faster."""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.converter import DataConverter

import activities.contracts
import workflows.order.messages
import workflows.recognition.workflow
from core.converter import DATA_CONVERTER

pytestmark = pytest.mark.unit

SDK = DataConverter.default.payload_converter
OURS = DATA_CONVERTER.payload_converter
MODULES = (activities.contracts, workflows.order.messages, workflows.recognition.workflow)
MESSAGES = sorted(
    {
        cls
        for module in MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__
    },
    key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of ``hint``, ``Any`` included (free-form event data)."""
    if hint is Any:
        return JSON
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return st.builds(
            hint,
            **{f.name: strategy(hints[f.name]) for f in dataclasses.fields(hint) if f.init},
        )
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of(*(strategy(arg) for arg in args))
    if origin is list:
        return st.lists(strategy(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(strategy(args[0]), strategy(args[1]), max_size=3)
    return st.from_type(hint)


def read(converter: Any, payload: Any, hint: type) -> tuple[str, Any]:
    try:
        return "ok", converter.from_payloads([payload], [hint])[0]
    except Exception as err:  # compared: both must refuse the same payloads
        return "refused", type(err).__name__


def test_every_message_type_is_covered() -> None:
    names = {cls.__name__ for cls in MESSAGES}
    assert {"OrderView", "OrderInput", "TransitionRecord", "TransitionResult"} <= names


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_message_reads_as_the_sdk_reads_it(cls: type, data: st.DataObject) -> None:
    value = data.draw(strategy(cls))
    [payload] = SDK.to_payloads([value])
    assert read(OURS, payload, cls) == read(SDK, payload, cls)


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_damaged_payload_is_refused_or_read_as_the_sdk_does(
    cls: type, data: st.DataObject
) -> None:
    # Every field swapped in turn for a value of another JSON kind.
    value = data.draw(strategy(cls))
    [payload] = SDK.to_payloads([value])
    raw = SDK.from_payloads([payload], [dict])[0]
    if not raw:
        return
    field = data.draw(st.sampled_from(sorted(raw)))
    raw[field] = data.draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=3),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
        )
    )
    [damaged] = SDK.to_payloads([raw])
    assert read(OURS, damaged, cls) == read(SDK, damaged, cls)


def test_it_is_the_converter_our_clients_connect_with() -> None:
    import core.temporal

    source = inspect.getsource(core.temporal.connect)
    assert "data_converter=DATA_CONVERTER" in source
