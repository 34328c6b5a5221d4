"""Finding Twilio's OpenAPI description and Stoplight Prism, and running ``prism mock``."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
# Vendored, so a clone works anywhere (see twilio_spec/README.md for its origin and version).
DEFAULT_SPEC = Path(__file__).resolve().parent / "twilio_spec" / "twilio_api_v2010.json"
DEFAULT_PRISM = REPO / ".tools" / "prism" / "node_modules" / ".bin" / "prism"
INSTALL_HINT = "install it with `bash tests/contract/install_prism.sh` (needs npm), or set PRISM"


def spec_path() -> Path:
    """Twilio's API v2010 description: ``$TWILIO_OPENAPI_SPEC`` or the vendored copy."""
    override = os.environ.get("TWILIO_OPENAPI_SPEC")
    return Path(override) if override else DEFAULT_SPEC


def prism_path() -> Path | None:
    """The prism executable: ``$PRISM`` or the repo-local ``.tools/prism`` install."""
    override = os.environ.get("PRISM")
    if override:
        found = shutil.which(override)
        return Path(found) if found else None
    return DEFAULT_PRISM if DEFAULT_PRISM.exists() else None


def load_spec(path: Path) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrismMock:
    """``prism mock <spec> --errors`` on a free port, as a subprocess.

    ``--errors`` turns request-validation violations into error responses (422 problem+json)
    instead of mock answers, which is what makes it a contract check.
    """

    def __init__(self, prism: Path, spec: Path, log_file: Path) -> None:
        self.prism = prism
        self.spec = spec
        self.log_file = log_file
        self.port = 0
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> PrismMock:
        began = time.monotonic()
        self.port = _free_port()
        with self.log_file.open("wb") as log:
            self._proc = subprocess.Popen(
                [
                    str(self.prism), "mock", str(self.spec),
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--errors",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own process group, so stop() can end node and anything it forked.
                start_new_session=True,
            )  # fmt: skip
        deadline = began + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"prism exited with {self._proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"prism did not listen within {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - began
        logger.info("prism mock listening on %s after %.2fs", self.base_url, self.startup_seconds)
        return self

    def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no prism log)"


def violations(body: str) -> list[dict[str, Any]]:
    """The request-validation violations in a Prism 422 problem+json body ([] if none)."""
    try:
        problem = json.loads(body)
    except ValueError:
        return []
    found = problem.get("validation", []) if isinstance(problem, dict) else []
    return [v for v in found if isinstance(v, dict)]
