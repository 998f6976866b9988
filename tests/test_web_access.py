"""Access: pairing with the PIN, tokens on every change, reading open unless configured, bounded input.

Through Flask's test client over a real hub, store and token file; one test runs the real
``backrep serve`` twice on one data directory and ``backrep pin`` beside it.
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from backrep.config import load_config
from backrep.errors import InputFileError
from backrep.live import LiveHub
from backrep.pin import PIN_FILENAME, TOKENS_FILENAME, TokenFile, load_or_create_pin, read_pin
from backrep.service import programme
from backrep.store import Store
from tests.test_web import FakeController
from web import MAX_BODY_BYTES, create_app
from web.access import WRITE_METHODS, Access, rule_for
from web.openapi import OPENAPI

PIN = "024680"
SET = {"exercise": "knee_to_chest", "leg": "left"}
#: Every route that changes something or hands out the history: (method, path, JSON body, status when allowed).
WRITES = [("POST", "/api/sets", SET, 201), ("POST", "/api/sets/stop", None, 200),
          ("GET", "/api/export.csv", None, 200), ("DELETE", "/api/tokens", None, 200)]
#: Readable on the LAN by default.
READS = ["/", "/history", "/api/state", "/api/sessions", "/api/sessions/days", "/api/programme",
         "/api/openapi.json", "/api/health"]
STATIC = ["/static/common.js", "/static/dashboard.js", "/static/history.js", "/static/style.css"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def build(tmp_path: Path, *, reading: bool = False, clock=None):
    store = Store.in_dir(tmp_path / "data")
    access = Access(PIN, TokenFile(tmp_path / "data"), require_token_for_reading=reading,
                    **({"clock": clock} if clock else {}))
    hub = LiveHub(max_listeners=2)
    hub.set_state({"exercise": None, "reps": 0, "holds": [], "hold": {"active": False, "elapsed_s": 0.0,
                                                                     "target_s": 0.0}})
    app = create_app({"TESTING": True, "HEARTBEAT_S": 0.05}, live=hub, store=store,
                     controller=FakeController(store), programme=programme(), access=access)
    return app, access, store


@pytest.fixture
def app(tmp_path):
    app, _, store = build(tmp_path)
    yield app
    store.close()


@pytest.fixture
def locked_app(tmp_path):
    app, _, store = build(tmp_path, reading=True)
    yield app
    store.close()


def call(client, method, path, body=None, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(path, method=method, json=body, headers=headers, **kwargs)


def pair(client, pin=PIN):
    response = client.post("/api/pair", json={"pin": pin})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def assert_refused(response, invalid: bool):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert ('error="invalid_token"' in response.headers["WWW-Authenticate"]) == invalid
    if response.mimetype == "application/json":
        assert "pair" in response.get_json()["error"]


# -- state-changing routes ------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body, _", WRITES)
def test_every_change_without_a_token_is_401_with_a_bearer_challenge(app, method, path, body, _):
    client = app.test_client()
    assert_refused(call(client, method, path, body), invalid=False)
    # another scheme, an empty bearer, a cookie alone: still no token
    assert_refused(call(client, method, path, body, headers={"Authorization": f"Basic {PIN}"}), invalid=False)
    assert_refused(call(client, method, path, body, headers={"Authorization": "Bearer "}), invalid=False)
    token = pair(client)  # the client now holds the cookie too; a change never accepts it
    assert_refused(call(client, method, path, body), invalid=False)
    assert call(client, method, path, body, token=token).status_code in (200, 201, 409)  # 409: no set to stop


@pytest.mark.parametrize("method, path, body, _", WRITES)
def test_every_change_with_a_wrong_or_revoked_token_is_401(app, method, path, body, _):
    client = app.test_client()
    token = pair(client)
    assert_refused(call(client, method, path, body, token=token[:-1] + ("A" if token[-1] != "A" else "B")),
                   invalid=True)
    assert_refused(call(client, method, path, body, token="x" * 43), invalid=True)
    assert call(client, "DELETE", "/api/tokens", token=token).get_json() == {"revoked": 1}
    assert_refused(call(client, method, path, body, token=token), invalid=True)


def test_every_change_works_with_a_valid_token_and_the_history_shows_it(app):
    client = app.test_client()
    token = pair(client)
    for method, path, body, status in WRITES:
        response = call(client, method, path, body, token=token)
        assert response.status_code == status, (path, response.get_data(as_text=True))
    assert "knee_to_chest" in call(client, "GET", "/api/sessions").get_data(as_text=True)
    # the revocation above was the last write: the token is gone
    assert_refused(call(client, "POST", "/api/sets", SET, token=token), invalid=True)


def test_no_route_that_changes_state_is_left_open(app):
    """Whatever routes exist, each non-reading method needs a token (pairing is the one way in)."""
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & WRITE_METHODS):
            if rule.endpoint == "api.pair":
                continue
            assert rule_for(rule.endpoint, method) == "write"
            assert call(client, method, rule.rule, {}).status_code == 401, (method, rule.rule)
            checked += 1
    assert checked >= 3
    assert rule_for("api.export_csv", "GET") == "write" and rule_for("api.state", "GET") == "read"


# -- reading --------------------------------------------------------------------------------------

def test_reading_needs_no_token_by_default(app):
    client = app.test_client()
    for path in READS + STATIC:
        assert client.get(path).status_code == 200, path
    stream = client.get("/api/events", buffered=False)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    stream.close()


def test_reading_needs_a_token_when_configured(locked_app):
    client = locked_app.test_client()
    for path in READS:
        assert_refused(client.get(path), invalid=False)
    page = client.get("/")
    assert page.mimetype == "text/html" and "Pair this tablet" in page.get_data(as_text=True)
    assert "reps" not in client.get("/api/state").get_data(as_text=True)
    events = client.get("/api/events")
    assert_refused(events, invalid=False)
    assert locked_app.extensions["backrep"]["live"].listener_count == 0  # no stream slot taken
    for path in STATIC:  # the app's own code: the pairing screen needs it
        assert client.get(path).status_code == 200, path
    # a bearer header opens everything; so does the cookie set at pairing (pages, EventSource)
    token = pair(client)
    for path in READS:
        assert locked_app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get(path).status_code == 200, path  # the cookie
    stream = client.get("/api/events", buffered=False)
    assert stream.status_code == 200
    stream.close()
    assert_refused(locked_app.test_client().get("/api/state", headers={"Authorization": "Bearer nope"}),
                   invalid=True)


def test_the_config_key_parses_and_a_wrong_type_is_refused(tmp_path):
    path = tmp_path / "config.toml"
    assert load_config(tmp_path / "none.toml").server.require_token_for_reading is False
    path.write_text("[server]\nrequire_token_for_reading = true\nhost = \"127.0.0.1\"\n")
    config = load_config(path)
    assert config.server.require_token_for_reading is True and config.server.host == "127.0.0.1"
    path.write_text("[server]\nrequire_token_for_reading = \"yes\"\n")
    with pytest.raises(InputFileError, match="require_token_for_reading must be bool"):
        load_config(path)


def test_the_bind_address_comes_from_the_config_and_host_overrides_it(tmp_path):
    from backrep.serve import _apply_overrides

    path = tmp_path / "config.toml"
    path.write_text("[server]\nhost = \"192.168.1.42\"\n")
    args = Namespace(host=None, port=None, data_dir=None)
    assert _apply_overrides(load_config(path), args).server.host == "192.168.1.42"
    assert _apply_overrides(load_config(path), Namespace(host="127.0.0.1", port=None, data_dir=None)).server.host \
        == "127.0.0.1"
    assert load_config(tmp_path / "none.toml").server.host == "0.0.0.0"


# -- pairing --------------------------------------------------------------------------------------

def test_pairing_gives_a_token_kept_only_as_its_hash_in_a_private_file(app, tmp_path):
    client = app.test_client()
    response = client.post("/api/pair", json={"pin": f" {PIN} "})
    assert response.status_code == 201 and response.get_json()["token_type"] == "Bearer"
    token = response.get_json()["token"]
    assert len(token) >= 40 and response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("backrep_token=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    kept = tmp_path / "data" / TOKENS_FILENAME
    assert kept.read_text().split() == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in kept.read_text()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # two tablets, two tokens; both work
    other = pair(app.test_client())
    assert other != token and len(kept.read_text().split()) == 2
    assert call(client, "POST", "/api/sets", SET, token=other).status_code == 201


def test_tokens_survive_a_restart_and_revoking_reaches_the_file(tmp_path):
    app, _, store = build(tmp_path)
    token = pair(app.test_client())
    store.close()
    again, _, store = build(tmp_path)  # a new process over the same data directory
    client = again.test_client()
    assert call(client, "POST", "/api/sets", SET, token=token).status_code == 201
    assert call(client, "DELETE", "/api/tokens", token=token).status_code == 200
    store.close()
    after, _, store = build(tmp_path)
    assert_refused(call(after.test_client(), "POST", "/api/sets/stop", token=token), invalid=True)
    store.close()


@pytest.mark.parametrize("body", [
    [PIN], PIN, 24680, None, {"pin": 24680}, {"pin": "02468"}, {"pin": "0246801"}, {"pin": "02468x"},
    {"pin": "٠٢٤٦٨٠"},  # Arabic-Indic digits are digits to Python, not to the PIN
    {"code": PIN}, {"pin": [PIN]},
])
def test_malformed_pairing_requests_are_400_and_do_not_count_as_tries(tmp_path, body):
    app, access, store = build(tmp_path)
    client = app.test_client()
    for _ in range(access.max_failures + 1):
        response = client.post("/api/pair", json=body)
        assert response.status_code == 400 and "six digits" in response.get_json()["error"]
    assert client.post("/api/pair", data=PIN, content_type="text/plain").status_code == 400
    pair(client)  # never locked
    store.close()


def test_five_wrong_pins_lock_pairing_for_a_minute_then_longer(tmp_path):
    clock = Clock()
    app, access, store = build(tmp_path, clock=clock)
    client = app.test_client()
    for tries_left in (4, 3, 2, 1):
        response = client.post("/api/pair", json={"pin": "999999"})
        assert response.status_code == 403
        assert f"wrong PIN ({tries_left} more before pairing locks for 60 s)" in response.get_json()["error"]
    locked = client.post("/api/pair", json={"pin": "999999"})
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "60"
    assert "too many wrong PINs: pairing is locked for 60 s" in locked.get_json()["error"]
    clock.now += 30
    right_but_locked = client.post("/api/pair", json={"pin": PIN})  # even the right PIN waits
    assert right_but_locked.status_code == 429 and right_but_locked.headers["Retry-After"] == "30"
    assert "try again in 30 s" in right_but_locked.get_json()["error"]
    clock.now += 31
    for _ in range(5):  # five more wrong: the next lock is twice as long
        response = client.post("/api/pair", json={"pin": "111111"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "120"
    clock.now += 121
    pair(client)  # the right PIN after the lock works and resets the count
    assert client.post("/api/pair", json={"pin": "111111"}).status_code == 403
    store.close()


def test_a_pairing_that_cannot_be_saved_is_503_not_500(tmp_path):
    class FullDisk(TokenFile):
        def add(self, digest):
            raise OSError(28, "No space left on device")

    store = Store.in_dir(tmp_path)
    app = create_app({"TESTING": True}, live=LiveHub(), store=store, controller=FakeController(store),
                     access=Access(PIN, FullDisk(tmp_path)))
    response = app.test_client().post("/api/pair", json={"pin": PIN})
    assert response.status_code == 503 and "No space left" in response.get_json()["error"]
    store.close()


# -- the PIN ----------------------------------------------------------------------------------------

def test_the_pin_is_six_digits_kept_private_and_survives_a_restart(tmp_path):
    pin = load_or_create_pin(tmp_path / "data")
    path = tmp_path / "data" / PIN_FILENAME
    assert len(pin) == 6 and pin.isdigit() and pin.isascii()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_pin(tmp_path / "data") == pin == read_pin(tmp_path / "data")
    os.chmod(path, 0o644)
    assert load_or_create_pin(tmp_path / "data") == pin and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("garbage\n")
    fresh = load_or_create_pin(tmp_path / "data")
    assert fresh.isdigit() and len(fresh) == 6 and read_pin(tmp_path / "data") == fresh


def test_backrep_pin_prints_the_pin_or_says_there_is_none(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    empty = subprocess.run([sys.executable, "-m", "backrep", "pin", "--data-dir", str(tmp_path / "data")],
                           capture_output=True, text=True, env=env, timeout=30)
    assert empty.returncode == 1 and "backrep serve" in empty.stderr and not (tmp_path / "data").exists()
    pin = load_or_create_pin(tmp_path / "data")
    shown = subprocess.run([sys.executable, "-m", "backrep", "pin", "--data-dir", str(tmp_path / "data")],
                           capture_output=True, text=True, env=env, timeout=30)
    assert shown.returncode == 0 and shown.stdout == f"{pin}\n"


def test_serve_makes_the_pin_once_logs_it_and_a_paired_token_outlives_a_restart(tmp_path):
    import json
    import urllib.request

    from tests.test_service import make_recording
    from tests.test_web_serve import running_set, start_server, stop_server

    recording = make_recording(tmp_path / "heel_slide.csv", "heel_slide", reps=1, hold_s=0, lead_s=30)
    args = ["--replay", str(recording), "--exercise", "heel_slide"]
    data = tmp_path / "data"

    def backrep_pin() -> str:
        result = subprocess.run([sys.executable, "-m", "backrep", "pin", "--data-dir", str(data)],
                                capture_output=True, text=True, timeout=30, env={**os.environ, "HOME": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def post(base, path, body=None, token=None):
        request = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    proc, base = start_server(args, tmp_path)
    try:
        pin = backrep_pin()
        assert post(base, "/api/sets/stop")[0] == 401
        status, body = post(base, "/api/pair", {"pin": pin})
        assert status == 201
        token = body["token"]
        # Bodies through waitress: a chunked one over the app's limit gets the JSON 413; one that
        # announces a megabyte is refused from its header, before anything is read.
        chunk = b"[" + b" " * (MAX_BODY_BYTES + 100) + b"]"
        answer = raw_http(base, b"POST /api/sets HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/json\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 413") and f"at most {MAX_BODY_BYTES} bytes".encode() in answer
        answer = raw_http(base, b"POST /api/pair HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{")
        assert answer.startswith(b"HTTP/1.1 413")
    finally:
        stop_server(proc)
    first_log = proc.stdout.read()
    assert f"pairing PIN: {pin}" in first_log
    proc, base = start_server(args, tmp_path)
    try:
        assert backrep_pin() == pin
        running_set(base)
        status, body = post(base, "/api/sets/stop", token=token)  # the replay's set, stopped by the old token
        assert status == 200 and body["set"]["exercise"] == "heel_slide"
    finally:
        stop_server(proc)
    assert f"pairing PIN: {pin}" in proc.stdout.read()


def raw_http(base: str, request: bytes) -> bytes:
    """Send ``request`` as it is and read the answer until the server closes."""
    import socket

    host, port = base.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_the_pin_and_where_to_pair_are_in_the_log(caplog):
    from backrep.serve import show_pin

    caplog.set_level("INFO", logger="backrep.serve")
    show_pin("123456", "http://pi:8080/", False)
    (line,) = [r.getMessage() for r in caplog.records if "pairing PIN" in r.getMessage()]
    assert "123456" in line and "http://pi:8080/" in line and "start and stop sets" in line


# -- bounded, well-formed input ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/sets", "/api/pair", "/api/sets/stop"])
def test_an_oversized_body_is_413_with_a_json_reason(app, path):
    client = app.test_client()
    token = app.extensions["backrep"]["access"].issue_token()
    big = b'{"exercise": "' + b"x" * MAX_BODY_BYTES + b'", "leg": "left"}'
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        response = client.post(path, data=big, content_type="application/json", headers=headers)
        assert response.status_code == 413, response.get_data(as_text=True)
        assert f"at most {MAX_BODY_BYTES} bytes" in response.get_json()["error"]


def test_an_oversized_chunked_body_is_413_too(app):
    """No Content-Length to check up front: reading stops at the limit."""
    token = app.extensions["backrep"]["access"].issue_token()
    response = app.test_client().post(
        "/api/sets", input_stream=io.BytesIO(b"[" + b" " * (2 * MAX_BODY_BYTES) + b"]"),
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked",
                 "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True})  # as waitress says of a chunked body
    assert response.status_code == 413 and "error" in response.get_json()


@pytest.mark.parametrize("body", [
    b"[]", b'"knee_to_chest"', b"5", b"null", b"true", b"[" * 5000 + b"]" * 5000, b"[" * 5000,
    b'{"exercise": 1, "leg": "left"}', b'{"exercise": "knee_to_chest", "leg": ["left"]}',
    b'{"exercise": "knee_to_chest", "leg": null}', b"\xff\xfe{", b'{"exercise": "knee_to_chest", "leg": "left"',
])
def test_json_that_is_not_an_object_of_the_right_types_is_400_never_500(app, body):
    token = app.extensions["backrep"]["access"].issue_token()
    for path in ("/api/sets", "/api/pair"):
        response = app.test_client().post(path, data=body, content_type="application/json",
                                          headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400, (path, body[:40], response.get_data(as_text=True)[:200])
        assert response.get_json()["error"]


def test_no_route_takes_a_path_and_dot_dot_gets_nothing(app):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":  # Flask's own, through safe_join: checked below
            continue
        assert not rule.arguments, f"{rule.rule} takes {rule.arguments}"
    for path in ("/static/../web/access.py", "/static/%2e%2e/access.py", "/static/..%2faccess.py",
                 "/static/../../pyproject.toml", "/static//etc/passwd", "/api/../pyproject.toml"):
        response = client.get(path, follow_redirects=True)  # "//" is merged by a redirect first
        assert response.status_code == 404 and b"import" not in response.data and b"root:" not in response.data
    token = app.extensions["backrep"]["access"].issue_token()
    for path, operations in OPENAPI["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] != "query":
                continue
            response = client.get(path, query_string={parameter["name"]: "../../etc/passwd"},
                                  headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 400, (path, parameter["name"])
    # and no web module opens a file: pages are templates, data comes from injected objects
    web = Path(__file__).resolve().parent.parent / "web"
    for module in web.glob("*.py"):
        source = module.read_text()
        for call_name in ("open(", "send_file", "send_from_directory", "Path(", "read_recording"):
            assert call_name not in source, f"{module.name} calls {call_name}"


def test_open_streams_are_bounded_and_cannot_take_every_worker(app):
    from backrep.config import ServerConfig

    config = ServerConfig()
    assert config.threads >= config.max_streams + 2  # pages and API calls still get a worker
    hub = app.extensions["backrep"]["live"]
    client = app.test_client()
    open_streams = [client.get("/api/events", buffered=False) for _ in range(hub.max_listeners)]
    assert all(s.status_code == 200 for s in open_streams) and hub.listener_count == hub.max_listeners
    refused = client.get("/api/events")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert client.get("/api/state").status_code == 200
    for stream in open_streams:
        stream.close()
    assert hub.listener_count == 0


def test_openapi_describes_the_security_and_the_refusals(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"] == {**spec["components"]["securitySchemes"]["bearer"],
                                                               "type": "http", "scheme": "bearer"}
    for method, path, _, _ in WRITES:
        operation = spec["paths"][path][method.lower()]
        assert operation["security"] == [{"bearer": []}] and "401" in operation["responses"], path
    assert {"400", "403", "413", "429"} <= set(spec["paths"]["/api/pair"]["post"]["responses"])
    assert spec["paths"]["/api/pair"]["post"]["security"] == [{}]
    assert "413" in spec["paths"]["/api/sets"]["post"]["responses"]
    assert all("401" in spec["paths"][path]["get"]["responses"] for path in READS if path.startswith("/api/"))
