"""Every route through Flask's test client, with a real hub and store and a fake controller, as a paired tablet."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from backrep.live import LiveHub
from backrep.service import programme
from backrep.store import Store
from web import create_app


class FakeController:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.open_id = None

    def start_set(self, exercise, leg):
        if exercise not in {"heel_slide", "knee_to_chest", "pelvic_tilt", "hip_flexor"}:
            raise ValueError(f"unknown exercise {exercise!r}")
        if leg not in ("left", "right"):
            raise ValueError("leg must be left or right")
        self.open_id = self.store.start_set(exercise=exercise, leg=leg, target_reps=5, hold_target_s=20.0,
                                            source="sensor", at_unix_s=datetime.now().timestamp())
        return {"id": self.open_id, "exercise": exercise, "leg": leg}

    def stop_set(self):
        if self.open_id is None:
            return None
        self.store.close_set(self.open_id, datetime.now().timestamp())
        record, self.open_id = self.store.get_set(self.open_id), None
        return record.as_dict()


@pytest.fixture
def parts(tmp_path):
    store = Store.in_dir(tmp_path)
    hub = LiveHub(max_listeners=2)
    app = create_app({"TESTING": True, "HEARTBEAT_S": 0.05}, live=hub, store=store,
                     controller=FakeController(store), programme=programme())
    yield app, hub, store
    store.close()


@pytest.fixture
def client(parts):
    """A paired tablet: every request carries a valid token (tests/test_web_access.py covers refusals)."""
    client = parts[0].test_client()
    token = parts[0].extensions["backrep"]["access"].issue_token()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _at(days_ago: int, hour: int = 10) -> float:
    day = date.today() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour).timestamp()


def _add_set(store, days_ago, reps=3, holds=(), exercise="knee_to_chest", close=True):
    t = _at(days_ago)
    set_id = store.start_set(exercise=exercise, leg="left", target_reps=5, hold_target_s=20.0, source="sensor",
                             at_unix_s=t)
    for n in range(1, reps + 1):
        store.add_rep(set_id, n, 10.0 * n, t + n)
    for start_s, end_s in holds:
        store.add_hold(set_id, start_s, end_s, t + 1)
    if close:
        store.close_set(set_id, t + 60)
    return set_id


def test_pages_load_with_local_assets_only(client):
    for url in ("/", "/history"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "http://" not in html and "https://" not in html  # nothing from a CDN
    html = client.get("/").get_data(as_text=True)
    assert "Lie flat, legs straight, keep still" in html
    for asset in ("/static/style.css", "/static/common.js", "/static/dashboard.js", "/static/history.js"):
        assert client.get(asset).status_code == 200


def test_state_is_the_hubs(client, parts):
    _, hub, _ = parts
    hub.set_state({"exercise": "heel_slide", "reps": 3, "holds": [], "hold": {"active": False, "elapsed_s": 0.0,
                                                                            "target_s": 0.0}})
    state = client.get("/api/state").get_json()
    assert state["exercise"] == "heel_slide" and state["reps"] == 3 and state["hold"]["active"] is False


def test_programme_has_four_exercises_doses_and_the_safety_note(client):
    body = client.get("/api/programme").get_json()
    assert [e["id"] for e in body["exercises"]] == ["heel_slide", "pelvic_tilt", "knee_to_chest", "hip_flexor"]
    assert all(e["dose"] and e["description"] for e in body["exercises"])
    assert "pain free" in body["safety_note"] and "physical therapist" in body["safety_note"]


def test_start_and_stop_a_set(client, parts):
    response = client.post("/api/sets", json={"exercise": "knee_to_chest", "leg": "right"})
    assert response.status_code == 201 and response.get_json()["set"]["leg"] == "right"
    stopped = client.post("/api/sets/stop")
    assert stopped.status_code == 200 and stopped.get_json()["set"]["status"] == "closed"
    again = client.post("/api/sets/stop")
    assert again.status_code == 409 and "no set" in again.get_json()["error"]


@pytest.mark.parametrize("body, words", [
    (None, "send JSON"),
    ({"exercise": "knee_to_chest"}, "required"),
    ({"exercise": "cartwheel", "leg": "left"}, "unknown exercise"),
    ({"exercise": "heel_slide", "leg": "both"}, "leg"),
])
def test_bad_set_requests_are_refused_with_a_reason(client, body, words):
    response = client.post("/api/sets", json=body) if body is not None else client.post("/api/sets", data="x")
    assert response.status_code == 400 and words in response.get_json()["error"]


def test_sessions_with_reps_and_holds_in_a_date_range(client, parts):
    store = parts[2]
    old = _add_set(store, 20, reps=2)
    recent = _add_set(store, 1, reps=5, holds=[(1.0, 21.0), (30.0, 49.5)])
    everything = client.get("/api/sessions").get_json()["sets"]
    assert [s["id"] for s in everything] == [recent, old]
    first = everything[0]
    assert first["reps"] == 5 and [h["duration_s"] for h in first["holds"]] == [20.0, 19.5]
    since = (date.today() - timedelta(days=3)).isoformat()
    assert [s["id"] for s in client.get(f"/api/sessions?from={since}").get_json()["sets"]] == [recent]
    assert len(client.get("/api/sessions?limit=1").get_json()["sets"]) == 1
    assert client.get("/api/sessions?from=yesterday").status_code == 400
    assert client.get("/api/sessions?from=2026-02-02&to=2026-02-01").status_code == 400


def test_days_over_recent_weeks(client, parts):
    store = parts[2]
    _add_set(store, 2, reps=3)
    _add_set(store, 2, reps=4)
    _add_set(store, 100, reps=9)  # older than six weeks
    body = client.get("/api/sessions/days?weeks=6").get_json()
    assert [(d["sets"], d["reps"]) for d in body["days"]] == [(2, 7)]
    assert client.get("/api/sessions/days?weeks=0").status_code == 400


def test_csv_export_of_a_date_range(client, parts):
    store = parts[2]
    _add_set(store, 10, reps=1)
    _add_set(store, 1, reps=4, holds=[(0.0, 20.25)])
    day = (date.today() - timedelta(days=1)).isoformat()
    response = client.get(f"/api/export.csv?from={day}&to={day}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["date"] == day and rows[0]["reps"] == "4" and rows[0]["hold_durations_s"] == "20.2"
    assert rows[0]["exercise"] == "knee_to_chest" and rows[0]["status"] == "closed"
    assert client.get("/api/export.csv?to=nonsense").status_code == 400


def test_openapi_describes_every_api_route(client, parts):
    app = parts[0]
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert routes == set(spec["paths"])
    assert {"exercise", "reps", "holds", "hold"} <= set(spec["components"]["schemas"]["State"]["properties"])


def _read_events(response, count):
    """The first ``count`` SSE messages of a streamed response (comments included)."""
    text = ""
    chunks = response.response
    for chunk in chunks:
        text += chunk.decode() if isinstance(chunk, bytes) else chunk
        if text.count("\n\n") >= count:
            break
    return text.split("\n\n")[:count]


def test_events_stream_state_with_ids_and_heartbeats(client, parts):
    _, hub, _ = parts
    hub.set_state({"reps": 1})
    response = client.get("/api/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    messages = _read_events(response, 3)
    response.close()
    assert messages[0] == ": backrep live\nretry: 2000"
    assert messages[1] == 'id: 1\ndata: {"reps":1}'
    assert messages[2] == ": heartbeat"  # nothing new within HEARTBEAT_S
    assert hub.listener_count == 0  # closing the stream let the listener go


def test_events_replay_after_last_event_id(client, parts):
    _, hub, _ = parts
    for n in range(4):
        hub.publish("engine", {"kind": "rep_counted", "rep": n + 1})
    response = client.get("/api/events?events=engine", headers={"Last-Event-ID": "2"}, buffered=False)
    messages = _read_events(response, 3)
    response.close()
    assert messages[1:] == ['event: engine\nid: 3\ndata: {"kind":"rep_counted","rep":3}',
                            'event: engine\nid: 4\ndata: {"kind":"rep_counted","rep":4}']


def test_an_unknown_named_event_is_refused_with_the_names_there_are(client):
    response = client.get("/api/events?events=engine,reps")
    assert response.status_code == 400
    assert "'reps'" in response.get_json()["error"] and "set_ended" in response.get_json()["error"]


def test_too_many_streams_get_503_with_retry_after(client, parts):
    _, hub, _ = parts
    held = [hub.subscribe(), hub.subscribe()]
    response = client.get("/api/events")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    health = client.get("/api/health").get_json()
    assert health["streams"] == 2 and health["max_streams"] == 2
    for listener in held:
        hub.unsubscribe(listener)
