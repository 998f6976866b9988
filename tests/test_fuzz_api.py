"""The API fuzzed: schemathesis over ``/api/openapi.json``, and Hypothesis over raw requests.

Both run in process, over WSGI, against ``create_app`` wired to the real parts: a ``LiveHub``, a
``Store`` in a temporary directory and a running ``Service`` (its loop thread, the real engine
and exercise catalogue) fed by a source that delivers no samples. Every answer must be:

- never a 5xx;
- never traceback text (``Traceback (most recent call last)``, ``File "...", line``);
- under ``/api/``, every 4xx a JSON object whose ``error`` is one short line saying why; 401 and
  403 (no pairing token) are clear refusals like any other.

The live stream is endless in the service; here the hub ends each stream after what it has
queued, so a fuzzed ``GET /api/events`` (its ``Last-Event-ID``) returns and can be checked too.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backrep.live import LiveHub
from backrep.service import Service, programme
from backrep.store import Store
from web import create_app
from web.openapi import OPENAPI

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")
#: Requests made by each fuzzer in this run, printed at the end (docs/reliability.md quotes them).
TRIED = {"schemathesis": 0, "raw": 0}
#: Answers by status, per fuzzer: that the fuzzers got past the refusals too.
STATUSES: dict[str, dict[int, int]] = {"schemathesis": {}, "raw": {}}


def _count(fuzzer: str, status: int) -> None:
    TRIED[fuzzer] += 1
    STATUSES[fuzzer][status] = STATUSES[fuzzer].get(status, 0) + 1


class EndingHub(LiveHub):
    """A hub whose streams end after their backlog, so a fuzzed stream request returns."""

    def subscribe(self, last_event_id=None, name="", events=frozenset()):
        listener = super().subscribe(last_event_id, name, events)
        if listener is not None:
            listener.queue.put_nowait(None)
        return listener


class IdleSource:
    """A sensor that is there and delivers nothing: sets open and close through the real loop."""

    mode = "sensor"
    status = {"state": "reading", "rate_hz": 100.0}

    def read(self, timeout_s=1.0):
        time.sleep(min(timeout_s, 0.01))
        return None

    def close(self):
        pass


def _build_app():
    """The app and its parts, built at import: schemathesis reads the description when the module loads."""
    store = Store.in_dir(tempfile.mkdtemp(prefix="fuzz-api-"))
    hub = EndingHub(ring_size=32, queue_size=64, max_listeners=4)
    service = Service(IdleSource(), hub, store)
    return create_app({"HEARTBEAT_S": 0.05}, live=hub, store=store, controller=service,
                      programme=programme()), service, store


APP, SERVICE, STORE = _build_app()


@pytest.fixture(scope="module")
def app():
    SERVICE.start()
    yield APP
    SERVICE.stop()
    STORE.close()
    shutil.rmtree(STORE.path.parent, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    yield
    line = (f"API fuzz: {TRIED['schemathesis']} schemathesis cases {dict(sorted(STATUSES['schemathesis'].items()))}, "
            f"{TRIED['raw']} raw requests {dict(sorted(STATUSES['raw'].items()))}")
    # Printed once pytest's capture is over, so the figure shows in every run (docs/reliability.md).
    request.config.add_cleanup(lambda: print(line, file=sys.stderr))


_TOKENS: dict[int, str] = {}


def auth_headers(app) -> dict:
    """A valid pairing token's headers, from the app's ``access`` (web/access.py) when it has one."""
    access = app.extensions["backrep"].get("access")
    if access is None or not hasattr(access, "issue_token"):
        return {}  # an app without pairing: nothing to send
    if id(app) not in _TOKENS or not access.valid(_TOKENS[id(app)]):  # a fuzzed DELETE /api/tokens revokes it
        _TOKENS[id(app)] = access.issue_token()
    return {"Authorization": f"Bearer {_TOKENS[id(app)]}"}


def check_answer(path: str, method: str, status: int, content_type: str | None, body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    assert status < 500, f"{status} for {path}: {text[:300]}"
    assert not TRACEBACK.search(text), f"traceback text in the answer to {path}: {text[:300]}"
    if path.startswith("/api/") and 400 <= status < 500 and method != "HEAD":  # HEAD: headers only
        assert content_type is not None and content_type.startswith("application/json"), (status, path, text[:200])
        payload = json.loads(text)
        assert isinstance(payload, dict) and isinstance(payload.get("error"), str), payload
        message = payload["error"].strip()
        assert message and "\n" not in message and len(message) <= 300, payload


# --------------------------------------------------------------------------- schemathesis


# (schemathesis.pytest.from_fixture fails under pytest 9 in schemathesis 4.32: Function._nodeid is gone)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_5xx_no_traceback_and_a_json_reason_for_every_refusal(case, app):
    response = case.call(headers=auth_headers(app))
    _count("schemathesis", response.status_code)
    content_type = (response.headers.get("content-type") or [None])[0]  # lower-case keys, lists of values
    check_answer(case.formatted_path, case.method, response.status_code, content_type, response.content)


# --------------------------------------------------------------------------- raw requests


_API_PATHS = sorted(OPENAPI["paths"])
_OTHER_PATHS = ["/", "/history", "/api", "/api/", "/api/sets/1", "/api/sessions/days/7", "/api/state/",
                "/api/../pyproject.toml", "/static/../../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
                "/api/replay/..%2f..%2fetc%2fpasswd", "/nowhere"]
_QUERY_NAMES = ["from", "to", "limit", "weeks", "last_event_id", "exercise", "leg", "file", "path"]
_value = st.one_of(
    st.text(max_size=30),
    st.dates().map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "1e999", "nan", "-0", "", "../../etc/passwd",
                     "\x00", "0" * 400, "2026-01-01T00:00:00"]),
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
_set_bodies = st.fixed_dictionaries(
    {}, optional={"exercise": st.one_of(st.sampled_from(["knee_to_chest", "heel_slide", "pelvic_tilt", "hip_flexor",
                                                          "KNEE_TO_CHEST", "../x", ""]), _json_values),
                  "leg": st.one_of(st.sampled_from(["left", "right", "both", ""]), _json_values)})
_bodies = st.one_of(
    st.none(),
    st.binary(max_size=600),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _set_bodies.map(lambda v: json.dumps(v).encode()),
    st.just(b'{"exercise": "knee_to_chest", "leg": "left"'),  # cut short
    st.just(b"\xef\xbb\xbf" + b'{"exercise": "heel_slide", "leg": "right"}'),
    st.integers(0, 3).map(lambda n: b'{"exercise": "' + b"x" * (10 ** (n + 3)) + b'", "leg": "left"}'),
)


@pytest.mark.parametrize("token", [False, True], ids=["no-token", "paired"])
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
       path=st.one_of(st.sampled_from(_API_PATHS), st.sampled_from(_OTHER_PATHS)),
       query=st.dictionaries(st.one_of(st.sampled_from(_QUERY_NAMES), st.text(max_size=8)), _value, max_size=3),
       body=_bodies,
       content_type=st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                                     "multipart/form-data", "application/json; charset=latin-1", "text/csv"]),
       last_event_id=st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=24),
                               st.integers(-(2**70), 2**70).map(str)))
@example(method="GET", path="/api/sessions", query={"to": "9999-12-31"}, body=None, content_type=None,
         last_event_id=None)
@example(method="GET", path="/api/export.csv", query={"from": "0001-01-01"}, body=None, content_type=None,
         last_event_id=None)
@example(method="GET", path="/api/sessions", query={"limit": str(2**64)}, body=None, content_type=None,
         last_event_id=None)
@example(method="DELETE", path="/api/sets", query={}, body=None, content_type=None, last_event_id=None)
@example(method="GET", path="/api/events", query={}, body=None, content_type=None, last_event_id=str(-(2**70)))
def test_raw_requests_find_no_5xx_no_traceback_and_a_json_reason_for_every_api_refusal(
        app, token, method, path, query, body, content_type, last_event_id):
    headers = dict(auth_headers(app)) if token else {}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with app.test_client() as client:
        response = client.open(path, method=method, query_string=query, data=body, content_type=content_type,
                               headers=headers)
        data = response.get_data()
        response.close()  # as a WSGI server does: a stream's slot is given back
    _count("raw", response.status_code)
    check_answer(path, method, response.status_code, response.headers.get("Content-Type"), data)
    # No route serves a file the client names.
    assert b"[project]" not in data and b"root:" not in data


def test_the_fuzzers_reach_the_routes_that_change_state(app):
    """A set started and stopped through the same app the fuzzers use: they were not all refused."""
    client = app.test_client()
    started = client.post("/api/sets", json={"exercise": "knee_to_chest", "leg": "left"}, headers=auth_headers(app))
    if started.status_code in (401, 403):  # pairing on: the refusal is a clear one
        assert "error" in started.get_json()
        return
    assert started.status_code == 201, started.get_data()
    stopped = client.post("/api/sets/stop", headers=auth_headers(app))
    assert stopped.status_code == 200 and stopped.get_json()["set"]["exercise"] == "knee_to_chest"
