"""End to end: the real `make run` stack (moto server + the app's local gateway) over HTTP."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model import ids, token_format
from chalicelib.model.kinds import TokenKind
from openindex_ops.gateway import GATEWAY_ERRORS, response_body, response_headers

from .local_server import (
    ROOT,
    STARTUP_SECONDS,
    Stack,
    call,
    children_of,
    drained,
    free_port,
    make_run,
    raw_call,
    stop,
    wait_until_gone,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    started = make_run(free_port(), tmp_path / "state")
    assert started.token is not None, "make run printed no admin token"
    yield started
    stop(started)


@pytest.mark.e2e
def test_make_run_serves_the_example_service_behind_the_same_authorizer(stack: Stack) -> None:
    status, pat = call(stack, "POST", "/me/pats", stack.token, {"name": "worker", "scope": "read_write"})
    assert status == 201
    status, item = call(stack, "POST", "/work-items", pat["token"], {"title": "First item"})
    assert status == 201 and item["createdWith"] == pat["id"]
    status, run = call(stack, "POST", "/workflows/agent-run-tokens", pat["token"], {"agentId": "agent-alpha"})
    assert status == 201
    assert call(stack, "GET", f"/work-items/{item['id']}", run["token"]) == (200, item)
    assert call(stack, "GET", "/admin/users", run["token"])[0] == 403  # never settings or admin
    assert call(stack, "DELETE", f"/me/pats/{pat['id']}", stack.token)[0] == 204
    for token in (pat["token"], run["token"], "oi_pat_garbage", None):  # revoked, dead with it, invalid, none
        status, refused = call(stack, "POST", "/work-items", token, {"title": "sneak in"})
        assert (status, refused["error"]["code"]) == (401, "invalid_token")
    assert [entry["title"] for entry in call(stack, "GET", "/work-items", stack.token)[1]["items"]] == ["First item"]


@pytest.mark.e2e
def test_make_run_serves_the_documented_flow(stack: Stack) -> None:
    status, me = call(stack, "GET", "/me", stack.token)
    assert status == 200 and me["role"] == "admin" and me["token"]["scope"] == "admin"

    status, created = call(stack, "POST", "/me/pats", stack.token,
                           {"name": "agent-alpha", "scope": "read_write", "expiresAt": "2099-01-01T00:00:00Z"})
    assert status == 201 and created["token"].startswith("oi_pat_")

    status, listed = call(stack, "GET", "/me/pats", stack.token)
    assert status == 200
    assert [item["name"] for item in listed["items"]] == ["agent-alpha", "bootstrap"]
    assert created["token"] not in json.dumps(listed)

    assert call(stack, "GET", "/me", created["token"])[0] == 200
    assert call(stack, "DELETE", f"/me/pats/{created['id']}", stack.token)[0] == 204
    status, refused = call(stack, "GET", "/me", created["token"])
    assert status == 401 and refused["error"]["code"] == "invalid_token"
    assert call(stack, "POST", "/me/pats", created["token"], {"name": "x", "scope": "read_write"})[0] == 401
    status, bad = call(stack, "POST", "/me/pats", stack.token, {"name": "x", "scope": "root"})
    assert status == 400 and bad["error"]["code"] == "invalid_request"


@pytest.mark.e2e
def test_invite_links_point_at_the_port_make_run_serves_on(stack: Stack) -> None:
    status, sent = call(stack, "POST", "/admin/invites", stack.token, {"email": "colleague@example.com"})
    assert status == 201
    assert sent["inviteUrl"].startswith(f"{stack.base_url}/invite#token=oi_inv_")


@pytest.mark.e2e
def test_the_installed_oi_command_talks_to_the_stack(stack: Stack, tmp_path: Path) -> None:
    oi = ROOT / ".venv" / "bin" / "oi"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "OPENINDEX_APP_URL": stack.base_url}
    env.pop("OPENINDEX_TOKEN", None)
    saved = subprocess.run([str(oi), "profile", "set", "--token", "-"], input=stack.token + "\n",
                           env=env, capture_output=True, text=True, timeout=60)
    assert saved.returncode == 0, saved.stderr
    check = subprocess.run([str(oi), "auth", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "admin@example.com" in check.stdout and stack.token not in check.stdout
    now = datetime.now(UTC)
    unknown = token_format.mint(TokenKind.PAT.spec, user_id=ids.new_id(ids.USER, now),
                                token_id=ids.new_id(TokenKind.PAT.spec.id_prefix, now)).value
    refused = subprocess.run([str(oi), "auth", "check"], env={**env, "OPENINDEX_TOKEN": unknown},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 4 and "OPENINDEX_TOKEN was refused" in refused.stderr
    assert "oi auth check" not in refused.stderr


@pytest.mark.parametrize("how", ["sigterm-to-runner", "ctrl-c-to-group"])
@pytest.mark.e2e
def test_stopping_make_run_stops_every_process_it_started(stack: Stack, how: str) -> None:
    assert len(stack.pids) == 2, "the runner and its worker should be running"
    if how == "sigterm-to-runner":
        (runner,) = children_of(stack.process.pid)
        os.kill(runner, signal.SIGTERM)
    else:
        os.killpg(stack.process.pid, signal.SIGINT)
    stack.process.wait(timeout=30)
    assert wait_until_gone(stack.pids) == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", stack.port), timeout=1).close()


def gateway_answer(response_type: str) -> tuple[int, dict[str, str], Any]:
    """What the deployed API's Gateway Response of this type answers: status, headers, body."""
    error = GATEWAY_ERRORS[response_type][0]
    return error.status, response_headers(error), json.loads(response_body(error))


@pytest.mark.e2e
def test_an_unknown_path_answers_the_deployed_404_and_echoes_no_token(stack: Stack) -> None:
    assert stack.token is not None
    status, expected_headers, expected_body = gateway_answer("MISSING_AUTHENTICATION_TOKEN")
    for method, path, headers in [
        ("GET", "/me/pat", {"Authorization": f"Bearer {stack.token}"}),
        ("POST", "/nope", {}),
        ("POST", "/nope", {"Authorization": f"Bearer {stack.token}"}),
    ]:
        answered, answered_headers, text = raw_call(stack, method, path, headers)
        assert (answered, json.loads(text)) == (status, expected_body)
        assert expected_body["error"]["code"] == "route_not_found"
        assert expected_headers.items() <= answered_headers.items()
        assert answered_headers["Content-Type"] == "application/json"
        assert stack.token not in text + json.dumps(answered_headers)


@pytest.mark.e2e
def test_no_authorization_header_answers_the_deployed_401(stack: Stack) -> None:
    status, expected_headers, expected_body = gateway_answer("UNAUTHORIZED")
    answered, answered_headers, text = raw_call(stack, "GET", "/me", {})
    assert (answered, json.loads(text)) == (status, expected_body) and status == 401
    assert answered_headers["WWW-Authenticate"] == expected_headers["WWW-Authenticate"]
    assert expected_headers.items() <= answered_headers.items()
    assert {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}.items() <= answered_headers.items()


@pytest.mark.e2e
def test_make_run_prints_its_address_once_and_the_admin_token_line(stack: Stack) -> None:
    assert [line for line in stack.startup if stack.base_url in line] == [
        f"OpenIndex Auth is serving on {stack.base_url} (Ctrl-C to stop)\n"
    ]
    assert [line for line in stack.startup if line.startswith("OPENINDEX_ADMIN_TOKEN=")] == [
        f"OPENINDEX_ADMIN_TOKEN={stack.token}\n"
    ]
    assert call(stack, "GET", "/health", None)[0] == 200
    stop(stack)
    printed = "".join(stack.startup) + drained(stack)
    assert "Traceback" not in printed and "ConnectionResetError" not in printed


@pytest.mark.e2e
def test_a_busy_port_fails_fast_before_any_token_or_state(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        command = ["make", "--no-print-directory", "run", f"PORT={port}", f"STATE_DIR={tmp_path / 's'}"]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=STARTUP_SECONDS)
        finally:  # a stack that kept running (the bug) must not outlive the test
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.communicate(timeout=30)
    assert process.returncode != 0
    assert f"openindex-local: port {port} is in use; make run PORT=…\n" in stderr
    assert "Traceback" not in stderr + stdout
    assert "OPENINDEX_ADMIN_TOKEN" not in stdout and "serving" not in stdout
    assert not (tmp_path / "s").exists()  # failed before the state folder, moto or the worker
