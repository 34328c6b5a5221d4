"""Operators' commands: ``python -m api.cli create-admin --username X [--password-stdin]``,
``python -m api.cli verify [--repair] [--township T] [--all]``,
``python -m api.cli recognition backfill --from 2026-01`` and ``recognition schedule``.

``verify`` compares every open order's read model (``--all``: every order) with its
workflow's state, prints each drift and a summary line, and with ``--repair`` writes the
workflow's state into the drifted rows. It exits 1 when drift is left unrepaired or a
workflow did not answer, so scripts (the fault suite) can rely on it.

``create-admin`` adds a staff account (a county admin unless ``--townships``/``--role``) to
the database of ``DATABASE_URL``. The password is read from stdin (``--password-stdin``,
for scripts) or asked twice without echo; it is never printed. One line tells what was done.

``recognition schedule`` creates (or updates) the honour rolls' Temporal Schedules, as the
worker does at start-up; ``recognition backfill`` runs the roll of every complete month and
year since ``--from`` (rolls already stored stay as they are) and prints one line each.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.orm import Session

from api import schemas
from api.database import Database
from api.stores import staff
from api.stores.errors import DomainError
from core.db import make_engine, make_sessionmaker, transaction, utcnow
from core.settings import Settings, get_settings
from core.temporal import connect
from core.vocab import Role
from workflows.recognition.ranking import valid_period
from workflows.recognition.schedules import backfill, ensure_schedules

CLI = "cli"


def create_account(session: Session, body: schemas.StaffCreate) -> str:
    """Create the account and audit it; the line to print."""
    account = staff.add_account(session, CLI, body, ip=None)
    scope = ", ".join(account.townships) if account.townships else "the whole county"
    return f"created {account.role} {account.username!r} (staff:{account.id}) for {scope}"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="add a staff account (an admin by default)")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    create.add_argument(
        "--townships", default="", help="comma-separated townships (default: the whole county)"
    )
    create.add_argument("--role", choices=[Role.ADMIN.value, Role.AGENT.value], default="admin")
    check = commands.add_parser("verify", help="compare the read model with the workflows")
    check.add_argument("--repair", action="store_true", help="rewrite the drifted rows")
    check.add_argument("--township", help="only this township's orders")
    check.add_argument("--all", action="store_true", help="closed orders too")
    recognition = commands.add_parser("recognition", help="honour rolls: schedules, backfill")
    what = recognition.add_subparsers(dest="action", required=True)
    what.add_parser("schedule", help="create or update the monthly and yearly schedules")
    fill = what.add_parser("backfill", help="compute the rolls of past periods")
    fill.add_argument("--from", dest="start", required=True, help="the first month, 2026-01")
    args = parser.parse_args(argv)
    if args.command == "verify":
        return asyncio.run(_verify(get_settings(), args))
    if args.command == "recognition":
        if args.action == "backfill" and (len(args.start) != 7 or not valid_period(args.start)):
            parser.error("--from takes a month such as 2026-01")
        for line in asyncio.run(_recognition(get_settings(), args.action, args.start)):
            sys.stdout.write(line + "\n")
        return 0

    townships = [t.strip() for t in args.townships.split(",") if t.strip()] or None
    password = _password(args.password_stdin)
    engine = make_engine(get_settings().database_url, pool_size=1)
    try:
        body = schemas.StaffCreate(
            username=args.username, password=password, role=Role(args.role), townships=townships
        )
        with transaction(make_sessionmaker(engine)) as session:
            line = create_account(session, body)
    except ValidationError as exc:
        # Which field and why, never the value typed (it may be the password).
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        sys.stderr.write(f"error: {reasons}\n")
        return 1
    except DomainError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return 1
    finally:
        engine.dispose()
    sys.stdout.write(line + "\n")
    return 0


async def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from api.verify import verify  # the Temporal client only for this command

    engine = make_engine(settings.database_url, pool_size=2)
    try:
        client = await connect(settings)
        report = await verify(
            client,
            Database(engine),
            repair=args.repair,
            township=args.township,
            closed_too=args.all,
        )
    finally:
        engine.dispose()
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return 1 if report.left else 0


async def _recognition(settings: Settings, action: str, start: str | None) -> list[str]:
    client = await connect(settings)
    queue, zone = settings.temporal_task_queue, settings.county_timezone
    if action == "schedule":
        await ensure_schedules(client, task_queue=queue, timezone=zone)
        return ["schedules recognition-monthly and recognition-yearly are in place"]
    assert start is not None
    results = await backfill(client, start=start, now=utcnow(), task_queue=queue, timezone=zone)
    return [
        f"{r.period}: {'stored' if r.stored else 'already stored'}"
        + (f" ({r.volunteers} volunteers, {r.units} units)" if r.stored else "")
        for r in results
    ]


if __name__ == "__main__":
    sys.exit(main())
