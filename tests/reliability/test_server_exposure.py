"""Server exposure: the app stays on loopback unless told otherwise, and --auth locks it.

Nothing here listens on a public address: the refusal for 0.0.0.0 happens before the server
starts, the --allow-remote path is followed up to `launch()` (replaced by a recorder), and the
password check is tested on a real server bound to 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import gradio
import httpx
import pytest
from reliability_support import ROOT
from servers import free_port, stop, wait_until_serving

import app
from rag.web.service import Service

USER, PASSWORD = "alice", "correct horse battery staple"
REFUSAL = ("Refusing to listen on 0.0.0.0: other machines could reach the app. Add "
           "--allow-remote (and --auth user:password) to do it on purpose.")


def nothing_listens(port: int) -> bool:
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex((host, port)) == 0:
                return False
    return True


def app_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RAG_", "GRADIO_SERVER"))}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
            **extra}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["flag", "environment"])
def test_public_address_without_allow_remote_is_refused(how):
    port = free_port()
    args = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    env = app_env()
    if how == "flag":
        args += ["--host", "0.0.0.0"]
    else:  # GRADIO_SERVER_NAME is the other way to pick the address
        env["GRADIO_SERVER_NAME"] = "0.0.0.0"
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=240,
                            check=False, cwd=ROOT)
    print(f"\n{how}: exit {result.returncode}: {result.stderr.strip()}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [REFUSAL]
    assert "Traceback" not in result.stderr and nothing_listens(port)


@pytest.mark.timeout(300)
def test_allow_remote_refuses_without_auth_and_passes_auth_to_the_server(monkeypatch, capsys,
                                                                         tmp_path):
    launched: list[dict] = []
    monkeypatch.setattr(gradio.Blocks, "launch", lambda self, **kw: launched.append(kw))
    monkeypatch.setattr(Service, "start", lambda self: None)  # no model loading
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("RAG_AUTH", raising=False)

    # It only warned, and then served every article and the upload form to the network.
    assert app.main(["--host", "0.0.0.0", "--allow-remote", "--port", "1"]) == 2
    assert "Refusing to listen on 0.0.0.0 without --auth" in capsys.readouterr().err
    assert launched == []

    assert app.main(["--host", "0.0.0.0", "--allow-remote", "--port", "1",
                     "--auth", f"{USER}:{PASSWORD}"]) == 0
    assert "Refusing" not in capsys.readouterr().err
    assert launched[-1]["server_name"] == "0.0.0.0" and launched[-1]["auth"] == [(USER, PASSWORD)] and launched[-1]["share"] is False

    assert app.main(["--host", "127.0.0.1", "--auth", "no-colon"]) == 2  # a clear refusal
    assert "--auth must be user:password" in capsys.readouterr().err


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory):
    """`app.py --allow-remote --auth ...` on 127.0.0.1. Its models point nowhere: the login
    check is in front of everything, so nothing needs to load."""
    workdir = tmp_path_factory.mktemp("locked")
    port = free_port()
    log = workdir / "app.log"
    env = app_env(RAG_INDEX_DIR=str(workdir / "index"), RAG_LLM=str(workdir / "none.gguf"),
                  RAG_EMBEDDING_MODEL=str(workdir / "no-embedder"))
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port),
         "--allow-remote", "--auth", f"{USER}:{PASSWORD}"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, url + "/", log, timeout_s=240)
        yield url
    finally:
        stop(process)


@pytest.mark.timeout(300)
def test_without_the_password_every_api_route_answers_401(locked_server):
    url = locked_server
    anonymous = httpx.Client(base_url=url, timeout=30)
    statuses = {
        "GET /config": anonymous.get("/config").status_code,
        "GET /gradio_api/info": anonymous.get("/gradio_api/info").status_code,
        "POST /gradio_api/call/search": anonymous.post(
            "/gradio_api/call/search", json={"data": ["kim", 3]}).status_code,
        "POST /gradio_api/call/ask": anonymous.post(
            "/gradio_api/call/ask", json={"data": ["Who?", None]}).status_code,
        "POST /gradio_api/upload": anonymous.post(
            "/gradio_api/upload", files=[("files", ("a.txt", b"x", "text/plain"))]).status_code,
        "POST /gradio_api/queue/join": anonymous.post(
            "/gradio_api/queue/join", json={"data": [], "fn_index": 0,
                                            "session_hash": "x"}).status_code,
    }
    print("\nwithout login:", statuses)
    assert set(statuses.values()) == {401}, statuses
    page = anonymous.get("/")
    # The page is the bare client shell (it shows a login form): none of the app's content.
    assert page.status_code == 200
    assert "Ask the news articles" not in page.text and "John Kirby" not in page.text

    wrong = anonymous.post("/login", data={"username": USER, "password": "guess"})
    assert wrong.status_code in (400, 401), wrong.status_code
    assert anonymous.get("/config").status_code == 401

    user = httpx.Client(base_url=url, timeout=30)
    login = user.post("/login", data={"username": USER, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert user.get("/config").status_code == 200
    assert user.get("/gradio_api/info").status_code == 200


@pytest.mark.timeout(300)
def test_gradio_client_needs_the_password(locked_server):
    from gradio_client import Client

    with pytest.raises(Exception) as excinfo:
        Client(locked_server, verbose=False)
    assert "credentials were not provided" in str(excinfo.value), excinfo.value
    client = Client(locked_server, auth=(USER, PASSWORD), verbose=False)
    assert "/search" in client.view_api(print_info=False, return_format="dict")[
        "named_endpoints"]


def test_readme_says_how_to_require_a_password():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "--allow-remote --auth" in readme and "RAG_AUTH" in readme
