"""Servers started as subprocesses in tests: a free port, waiting until they answer, stopping."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, timeout_s: float) -> None:
    """Return once `url` answers at all (any HTTP status); fail with the log's tail if the
    process exits or `timeout_s` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args[1:3]} exited with {process.returncode}:\n"
                        f"{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return  # it answered, e.g. 401 behind a login
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{process.args[1:3]} did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)


def stop(process: subprocess.Popen, timeout_s: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
