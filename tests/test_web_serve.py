"""``backrep serve`` as a user runs it: a real process, waitress, real HTTP and SSE clients."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from backrep.cli import main
from backrep.recording import read_labels, read_recording
from backrep.replay import replay_recording
from tests.test_service import make_recording


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class SseClient(threading.Thread):
    """Reads /api/events and keeps every (event, id, data) it receives."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.events: list[tuple[str, int, dict]] = []

    def run(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=10) as stream:
                event, event_id = "message", None
                for raw in stream:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("data: "):
                        self.events.append((event, event_id, json.loads(line[6:])))
                    elif line == "":
                        event, event_id = "message", None
        except OSError:
            pass  # the server went away: the test looks at what arrived

    def max_reps(self) -> int:
        return max((data.get("reps", 0) for event, _, data in self.events if event == "message"), default=0)


def start_server(args: list[str], tmp_path: Path, host: str | None = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    """``backrep serve`` on a free port, on ``host`` (None: the configured default)."""
    port = free_port()
    where = ["--host", host] if host is not None else []
    proc = subprocess.Popen([sys.executable, "-m", "backrep", "serve", *where, "--port", str(port),
                             "--data-dir", str(tmp_path / "data"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "HOME": str(tmp_path)})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            get_json(base + "/api/state")
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read())
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not come up")


def running_set(base: str, timeout_s: float = 10.0) -> dict:
    """The set a replay opened: the service opens it on its own thread, so the page can answer
    before the set exists (a loaded CI machine saw ``set: null`` just after start-up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        running = get_json(base + "/api/state")["set"]
        if running is not None or time.monotonic() > deadline:
            assert running is not None, "the replay's set was not opened in time"
            return running
        time.sleep(0.05)


def stop_server(proc: subprocess.Popen) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return code, time.monotonic() - started


def test_the_demo_as_the_readme_starts_it_serves_on_every_interface_and_says_where(tmp_path):
    # `scripts/demo` is `backrep serve --demo` with the configured host, every interface: the
    # line that tells you what to open on the tablet looks up this machine's address, which no
    # other test reached (they all listen on 127.0.0.1), and a lost import crashed the demo.
    proc, base = start_server(["--demo"], tmp_path, host=None)
    try:
        state = get_json(base + "/api/state")
    finally:
        code, _ = stop_server(proc)
    output = proc.stdout.read()
    assert code == 0, output
    assert "internal error" not in output
    assert "dashboard: open http://" in output and "http://0.0.0.0" not in output
    assert state["sensor"]["state"] in ("reading", "starting"), state


def test_replay_at_speed_20_reaches_the_labelled_count_for_every_client_and_stops_on_sigterm(tmp_path):
    recording = make_recording(tmp_path / "knee_to_chest.csv", reps=3, hold_s=20.0)
    labels = read_labels(recording)
    proc, base = start_server(["--replay", str(recording), "--exercise", "knee_to_chest", "--speed", "20"], tmp_path)
    # One client as any SSE reader would open the stream, two as the dashboard does.
    plain = SseClient(base + "/api/events")
    clients = [plain] + [SseClient(base + "/api/events?events=engine,set_started,set_ended") for _ in range(2)]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = get_json(base + "/api/state")
            if state["last_set"] is not None:
                break
            time.sleep(0.2)
        sessions = get_json(base + "/api/sessions")["sets"]
    finally:
        code, took_s = stop_server(proc)
    for client in clients:
        client.join(5)
    output = proc.stdout.read()
    assert state["last_set"]["reps"] == labels.reps, output
    assert len(state["last_set"]["holds"]) == len(labels.holds_s)
    assert sessions[0]["reps"] == labels.reps and sessions[0]["status"] == "closed"
    # the file played, the state still holds its count, as `backrep replay` gives it
    assert state["exercise"] == "knee_to_chest" and state["set"] is None
    replayed = replay_recording(read_recording(recording), "knee_to_chest")
    assert state["reps"] == replayed.reps == labels.reps
    assert state["holds"] == [hold.as_dict() for hold in replayed.holds]
    assert {event for event, _, _ in plain.events} == {"message"}
    for client in clients:
        assert client.max_reps() == labels.reps
    for client in clients[1:]:
        rep_events = [data["rep"] for event, _, data in client.events if event == "engine"
                      and data["kind"] == "rep_counted"]
        assert rep_events == list(range(1, labels.reps + 1))
        # every change has an id to resume from; only an unchanged state repeated goes without
        assert all(event_id is not None for event, event_id, _ in client.events if event != "message")
        ids = [event_id for _, event_id, _ in client.events if event_id is not None]
        assert ids == sorted(ids) and len(ids) > labels.reps
    assert code == 0 and took_s < 5.0, output
    assert "stopped" in output


def test_sigterm_with_a_set_open_closes_it_and_exits_promptly(tmp_path):
    recording = make_recording(tmp_path / "knee_to_chest.csv", reps=2, hold_s=20.0)
    proc, base = start_server(["--replay", str(recording), "--exercise", "knee_to_chest", "--speed", "1"], tmp_path)
    client = SseClient(base + "/api/events")
    client.start()
    time.sleep(0.5)   # the stream is open when SIGTERM comes
    running_set(base)
    code, took_s = stop_server(proc)
    assert code == 0 and took_s < 5.0
    from backrep.store import Store

    store = Store.in_dir(tmp_path / "data")
    (record,) = store.sets()
    assert record.status == "closed"
    store.close()


@pytest.mark.parametrize("args, words", [
    (["--replay", "x.csv"], "--replay needs --exercise"),
    (["--exercise", "heel_slide"], "--exercise only goes with --replay"),
    (["--demo", "--replay", "x.csv", "--exercise", "heel_slide"], "cannot be used together"),
    (["--replay", "missing.csv", "--exercise", "heel_slide"], "missing.csv"),
    (["--replay", "{rec}", "--exercise", "cartwheel"], "unknown exercise 'cartwheel'"),
    (["--config", "{cfg}"], "server.port must be int"),
    (["--port", "99999"], "port out of range"),
    (["--speed", "3"], "--speed only goes with --replay or --demo"),
    (["--demo", "--config", "{host}"], "cannot listen on 999.1.1.1:"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, words):
    rec = make_recording(tmp_path / "r.csv", reps=1, hold_s=0)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[server]\nport = "eighty"\n')
    host = tmp_path / "host.toml"
    host.write_text('[server]\nhost = "999.1.1.1"\nport = 0\n')
    argv = ["serve", "--data-dir", str(tmp_path / "d")] + [a.format(rec=rec, cfg=cfg, host=host) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and err.startswith("backrep: error: ")


def test_a_damaged_history_is_one_line_and_exit_2_not_an_internal_error(tmp_path, capsys):
    from backrep.store import Store

    store = Store.in_dir(tmp_path / "d")
    for n in range(300):
        store.start_set(exercise="heel_slide", leg="left", target_reps=10, hold_target_s=0.0, source="demo",
                        at_unix_s=1.7e9 + n)
    store.close()
    path = tmp_path / "d" / Store.FILENAME
    damaged = bytearray(path.read_bytes())
    damaged[2 * 4096:6 * 4096] = os.urandom(4 * 4096)       # a power cut's torn pages
    path.write_bytes(bytes(damaged))
    assert main(["serve", "--demo", "--port", "0", "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open the history" in err and Store.FILENAME in err


def test_a_second_serve_on_the_same_data_refuses_and_leaves_the_running_set_alone(tmp_path):
    recording = make_recording(tmp_path / "knee_to_chest.csv", reps=2, hold_s=20.0)
    proc, base = start_server(["--replay", str(recording), "--exercise", "knee_to_chest", "--speed", "1"], tmp_path)
    try:
        running = running_set(base)
        second = subprocess.run([sys.executable, "-m", "backrep", "serve", "--demo", "--port", str(free_port()),
                                 "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=30)
        assert second.returncode == 2, second.stderr
        assert second.stderr.count("\n") == 1 and "another backrep serve is already using" in second.stderr
        from backrep.store import Store

        store = Store.in_dir(tmp_path / "data")
        assert [record.status for record in store.sets()] == ["open"]   # not marked interrupted
        store.close()
        assert get_json(base + "/api/state")["set"] == running
    finally:
        stop_server(proc)


def test_vanished_tablets_free_their_streams(tmp_path):
    """Streams whose clients disappear without a word are noticed at the next heartbeat."""
    config = tmp_path / "config.toml"
    config.write_text("[server]\nmax_streams = 3\nheartbeat_s = 0.3\n")
    recording = make_recording(tmp_path / "heel_slide.csv", "heel_slide", reps=2, hold_s=0)
    proc, base = start_server(["--config", str(config), "--replay", str(recording), "--exercise", "heel_slide"],
                              tmp_path)
    port = int(base.rsplit(":", 1)[1])
    try:
        sockets = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n")
            assert b"200 OK" in sock.recv(4096)
            sockets.append(sock)
        assert get_json(base + "/api/health")["streams"] == 3
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/api/events", timeout=5)
        assert refused.value.code == 503
        for sock in sockets:  # the tablets go out of Wi-Fi range
            sock.close()
        deadline = time.monotonic() + 5
        while get_json(base + "/api/health")["streams"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert get_json(base + "/api/health")["streams"] == 0
        with urllib.request.urlopen(base + "/api/events", timeout=5) as again:
            assert again.status == 200
    finally:
        code, _ = stop_server(proc)
    assert code == 0


def test_demo_plays_the_bundled_recordings_in_programme_order(tmp_path):
    from backrep.serve import demo_segments

    segments = demo_segments()
    assert [s.exercise for s in segments] == ["heel_slide", "pelvic_tilt", "knee_to_chest", "hip_flexor"]
    first_labels = read_labels(segments[0].path)
    proc, base = start_server(["--demo", "--speed", "100"], tmp_path)
    try:
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline and len(seen) < 2:
            state = get_json(base + "/api/state")
            assert state["mode"] == "demo"
            if state["last_set"] and state["last_set"]["id"] not in [s["id"] for s in seen]:
                seen.append(state["last_set"])
            time.sleep(0.05)
    finally:
        stop_server(proc)
    assert [s["exercise"] for s in seen] == ["heel_slide", "pelvic_tilt"]
    assert seen[0]["reps"] == first_labels.reps and seen[0]["source"] == "demo"


def test_without_a_sensor_the_dashboard_is_served_and_says_so(tmp_path):
    # A Pi booted with the sensor unplugged: the service used to exit (and systemd start it
    # again every 5 s), so the tablet could not reach the page that would say why.
    config = tmp_path / "config.toml"
    config.write_text("[sensor]\nbus = 97\n")
    proc, base = start_server(["--config", str(config)], tmp_path)
    try:
        state = get_json(base + "/api/state")
        assert proc.poll() is None
    finally:
        code, _ = stop_server(proc)
    assert state["sensor"]["state"] == "absent" and "i2c-97" in state["sensor"]["message"]
    output = proc.stdout.read()
    assert "cannot open the sensor" in output and "trying again" in output and code == 0
