"""Load on ``backrep serve``: many tablets, a state poller and a tablet that stops reading.

    .venv/bin/python benchmarks/load_live.py [--clients 30] [--speed 20] [--recording FILE]

Starts the real service (waitress, the real engine, a store in a temporary data directory)
replaying a labelled recording at ``--speed``; connects ``--clients`` SSE clients, all read by
one thread with ``selectors`` (as ``bench_live.py`` does), one client polling ``/api/state``
``--poll-hz`` times a second over a kept-alive connection, and ``--slow`` clients that open the
stream with a 4 KiB receive buffer and never read it. Then checks, and prints as a table:

- every SSE client saw every event id from the first on, with no gap, and the rep events
  1..N in order (a rep the engine takes back is taken back from the client's list too), N the
  label's count;
- the set's last state says the engine took every sample of the recording (``samples``);
- ``/api/state`` after the set says ``last_set.reps`` is the label's count;
- every poll of ``/api/state`` answered 200;
- p50/p99/max latency from a batch of samples entering the engine (the ``mono_s`` the service
  stamps, CLOCK_MONOTONIC, system-wide on Linux) to the event's arrival at a client, each batch
  counted once per client, events replayed from the ring at connection left out;
- what became of the client that stopped reading: still counted in ``/api/health``'s
  ``streams``, or dropped (``dropped_streams``), or its socket closed by the server.

Exit status 0 when every check passes (p99 under ``--p99-ms``), 1 otherwise.
``tests/test_load.py`` runs ``run_load`` scaled down and asserts the behaviours, not timings.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backrep.recording import read_labels, read_recording  # noqa: E402

DEFAULT_RECORDING = ROOT / "recordings" / "heel_slide-01-typical.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kib(pid: int) -> dict[str, int]:
    out = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            out[key] = int(value.split()[0])
    return out


def get_json(port: int, path: str, timeout_s: float = 5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


# --------------------------------------------------------------------------- the service


def start_service(recording: Path, exercise: str, speed: float, port: int, work: Path, max_streams: int,
                  extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    config = work / "config.toml"
    config.write_text(f"[server]\nmax_streams = {max_streams}\n")
    log = open(work / "serve.log", "w")
    args = [sys.executable, "-m", "backrep", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--config", str(config), "--data-dir", str(work / "data"), "--speed", str(speed)]
    if recording is not None:
        args += ["--replay", str(recording), "--exercise", exercise]
    proc = subprocess.Popen([*args, *extra_args], stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT),
                            env={**os.environ, "HOME": str(work)})
    log.close()
    return proc


def wait_up(proc: subprocess.Popen, port: int, work: Path, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the service exited: " + (work / "serve.log").read_text()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("the service did not come up")


def stop_service(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -9
    return proc.returncode


# --------------------------------------------------------------------------- SSE clients


@dataclass
class Client:
    sock: socket.socket
    buffer: bytes = b""
    event: str = "message"
    event_id: int | None = None
    #: (event, id, data, arrival monotonic s)
    events: list = field(default_factory=list)
    closed: bool = False


class SseReaders(threading.Thread):
    """Opens ``n`` streams and reads them all on one thread, keeping every event with its arrival time."""

    def __init__(self, port: int, n: int) -> None:
        super().__init__(daemon=True, name="sse-readers")
        self.selector = selectors.DefaultSelector()
        self.clients: list[Client] = []
        self.stop = threading.Event()
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port))
            # HTTP/1.0: the stream comes unchunked, to be read until the server closes it. Last-Event-ID 0
            # asks for the ring from the first event, so a client that connects after the replay began
            # still sees every event.
            sock.sendall(b"GET /api/events?events=engine,set_started,set_ended HTTP/1.0\r\nHost: load\r\n"
                         b"Accept: text/event-stream\r\n"
                         b"Last-Event-ID: 0\r\n\r\n")
            sock.setblocking(False)
            client = Client(sock)
            self.selector.register(sock, selectors.EVENT_READ, client)
            self.clients.append(client)

    def run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                client: Client = key.data
                now = time.monotonic()
                try:
                    data = client.sock.recv(262144)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    client.closed = True
                    self.selector.unregister(client.sock)
                    continue
                client.buffer += data
                *lines, client.buffer = client.buffer.split(b"\n")
                for line in lines:
                    line = line.rstrip(b"\r")
                    if line.startswith(b"event: "):
                        client.event = line[7:].decode()
                    elif line.startswith(b"id: "):
                        client.event_id = int(line[4:])
                    elif line.startswith(b"data: ") and client.event_id is not None:
                        client.events.append((client.event, client.event_id, json.loads(line[6:]), now))
                    elif line == b"":
                        client.event, client.event_id = "message", None

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        for client in self.clients:
            client.sock.close()


def slow_client(port: int) -> socket.socket:
    """A stream that is opened and never read, with a small receive buffer so it backs up soon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /api/events HTTP/1.0\r\nHost: slow\r\nAccept: text/event-stream\r\n\r\n")
    return sock


def closed_by_server(sock: socket.socket, timeout_s: float = 2.0) -> tuple[bool, int]:
    """Read what is waiting (now, at last); True if the server closed its end. Also the bytes read."""
    sock.settimeout(0.2)
    total = 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            return False, total
        except OSError:
            return True, total
        if not data:
            return True, total
        total += len(data)
    return False, total


class Poller(threading.Thread):
    """GET /api/state ``hz`` times a second over one kept-alive connection."""

    def __init__(self, port: int, hz: float) -> None:
        super().__init__(daemon=True, name="poller")
        self.port, self.period_s = port, 1.0 / hz
        self.stop = threading.Event()
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.durations_s: list[float] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        next_at = time.monotonic()
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", "/api/state")
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    json.loads(body)
                self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.durations_s.append(time.monotonic() - started)
            next_at += self.period_s
            self.stop.wait(max(0.0, next_at - time.monotonic()))
        conn.close()


# --------------------------------------------------------------------------- analysis


def reps_seen(events: list) -> list[int]:
    """The rep numbers a client was told of, in order, with taken-back reps taken back."""
    reps: list[int] = []
    for event, _, data, _ in events:
        if event != "engine":
            continue
        if data.get("kind") == "rep_counted":
            reps.append(data.get("rep"))
        elif data.get("kind") == "rep_retracted" and reps:
            reps.pop(min(len(reps), max(1, data.get("retracted", 1))) - 1)
            reps = list(range(1, len(reps) + 1))  # the engine renumbers what is left
    return reps


def last_set_state(events: list) -> dict | None:
    """The last state (a plain message) while the set was open: the set's final count and samples."""
    last = None
    for event, _, data, _ in events:
        if event == "message" and data.get("set") is not None:
            last = data
        if event == "set_ended":
            break
    return last


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_load(recording: Path = DEFAULT_RECORDING, exercise: str | None = None, speed: float = 20.0,
             clients: int = 30, poll_hz: float = 10.0, slow: int = 1, timeout_s: float = 120.0,
             slow_wait_s: float = 30.0, work: Path | None = None) -> dict:
    """Run the load once; a dict of what every client saw and what the service said."""
    recording = Path(recording)
    labels = read_labels(recording)
    if labels is None:
        raise ValueError(f"{recording} has no labels (.json) to check the count against")
    exercise = exercise or labels.exercise
    samples = read_recording(recording).samples
    work = Path(work) if work is not None else Path(tempfile.mkdtemp(prefix="load-live-"))
    port = free_port()
    proc = start_service(recording, exercise, speed, port, work, max_streams=clients + slow + 2)
    readers = poller = None
    slow_socks: list[socket.socket] = []
    try:
        wait_up(proc, port, work)
        readers = SseReaders(port, clients)
        readers.start()
        slow_socks = [slow_client(port) for _ in range(slow)]
        poller = Poller(port, poll_hz)
        poller.start()
        connected_mono = time.monotonic()
        _, health = get_json(port, "/api/health")
        connected_after_id = health["last_event_id"]
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if all(any(e[0] == "set_ended" for e in c.events) or c.closed for c in readers.clients):
                break
            time.sleep(0.05)
        replay_wall_s = time.monotonic() - started
        time.sleep(0.3)  # the idle state after the set, to the poller and the clients
        _, final_state = get_json(port, "/api/state")
        # Give the server its chance to drop the reader that stopped.
        slow_wait_started = time.monotonic()
        slow_deadline = slow_wait_started + slow_wait_s
        while True:
            _, health = get_json(port, "/api/health")
            if health["streams"] <= clients or time.monotonic() > slow_deadline:
                break
            time.sleep(0.2)
        slow_dropped_after_s = time.monotonic() - slow_wait_started
        mem = memory_kib(proc.pid)
        poller.stop.set()
        poller.join(5)
        slow_results = [closed_by_server(s) for s in slow_socks]
    finally:
        if poller is not None:
            poller.stop.set()
        if readers is not None:
            readers.close()
        for s in slow_socks:
            s.close()
        code = stop_service(proc)

    per_client = []
    latencies_ms: list[float] = []
    for client in readers.clients:
        ids = [e[1] for e in client.events]
        seen_mono: set = set()
        for event, event_id, data, arrived in client.events:
            mono_s = data.get("mono_s")
            if event_id <= connected_after_id or mono_s is None or mono_s in seen_mono:
                continue
            seen_mono.add(mono_s)
            latencies_ms.append((arrived - mono_s) * 1000.0)
        last = last_set_state(client.events)
        per_client.append({
            "events": len(client.events),
            "first_id": ids[0] if ids else None,
            "gapless": bool(ids) and ids == list(range(ids[0], ids[0] + len(ids))),
            "reps": reps_seen(client.events),
            "set_ended": any(e[0] == "set_ended" for e in client.events),
            "last_samples": None if last is None else last.get("samples"),
            "last_reps": None if last is None else last.get("reps"),
        })
    return {
        "recording": str(recording), "exercise": exercise, "speed": speed, "clients": clients, "slow": slow,
        "label_reps": labels.reps, "recording_samples": samples, "replay_wall_s": replay_wall_s,
        "connected_after_id": connected_after_id, "connect_s": connected_mono - started,
        "per_client": per_client, "latencies_ms": latencies_ms,
        "final_state": final_state, "health": health, "memory_kib": mem,
        "polls": dict(poller.statuses), "poll_errors": list(poller.errors),
        "poll_p99_ms": percentile(poller.durations_s, 0.99) * 1000.0,
        "slow_closed": [closed for closed, _ in slow_results],
        "slow_dropped_after_set_s": slow_dropped_after_s,
        "slow_bytes": [n for _, n in slow_results],
        "exit_code": code, "log": (work / "serve.log").read_text()[-4000:],
    }


def checks(result: dict, p99_ms: float | None = 100.0) -> list[tuple[str, bool, str]]:
    """(what, passed, figure) rows."""
    n = result["label_reps"]
    clients = result["per_client"]
    want = list(range(1, n + 1))
    lat = result["latencies_ms"]
    rows = [
        ("SSE clients held to the end", all(c["set_ended"] for c in clients),
         f"{sum(c['set_ended'] for c in clients)}/{len(clients)}"),
        ("every client: every event id from 1, no gap", all(c["first_id"] == 1 and c["gapless"] for c in clients),
         f"{sum(c['first_id'] == 1 and c['gapless'] for c in clients)}/{len(clients)}, "
         f"{min((c['events'] for c in clients), default=0)} events each at least"),
        (f"every client: rep events 1..{n} in order", all(c["reps"] == want for c in clients),
         f"{sum(c['reps'] == want for c in clients)}/{len(clients)}"),
        ("set's last state: engine took every sample",
         all(c["last_samples"] == result["recording_samples"] for c in clients),
         f"{clients[0]['last_samples'] if clients else None} of {result['recording_samples']}"),
        ("/api/state after the set: last_set.reps = label",
         (result["final_state"].get("last_set") or {}).get("reps") == n,
         f"{(result['final_state'].get('last_set') or {}).get('reps')} (label {n})"),
        ("every /api/state poll answered 200",
         not result["poll_errors"] and set(result["polls"]) == {200},
         f"{sum(result['polls'].values())} polls {result['polls']}, {len(result['poll_errors'])} errors, "
         f"p99 {result['poll_p99_ms']:.1f} ms"),
    ]
    if p99_ms is not None:
        rows.append((f"p99 event latency under {p99_ms:g} ms", percentile(lat, 0.99) < p99_ms,
                     f"p50 {percentile(lat, 0.5):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms, "
                     f"max {max(lat, default=float('nan')):.1f} ms over {len(lat)} deliveries"))
    if result["slow"]:
        health = result["health"]
        dropped = health["dropped_streams"] >= result["slow"] and health["streams"] <= result["clients"]
        rows.append(("reader that stopped: dropped by the server",
                     dropped or all(result["slow_closed"]),
                     f"{result['slow_dropped_after_set_s']:.1f} s after the set; "
                     f"streams {health['streams']}, dropped_streams {health['dropped_streams']}, "
                     f"socket closed {result['slow_closed']}"))
    rows.append(("service stopped cleanly on SIGTERM", result["exit_code"] == 0, f"exit {result['exit_code']}"))
    return rows


def print_table(result: dict, rows) -> None:
    mem = result["memory_kib"]
    print(f"{result['recording']} ({result['exercise']}, {result['label_reps']} reps, "
          f"{result['recording_samples']} samples) at {result['speed']:g}x: replay took "
          f"{result['replay_wall_s']:.1f} s wall; {result['clients']} SSE clients + 1 poller + "
          f"{result['slow']} non-reading; {os.cpu_count()} CPUs")
    print(f"service: RSS {mem.get('VmRSS', 0) / 1024:.1f} MiB (peak {mem.get('VmHWM', 0) / 1024:.1f} MiB), "
          f"{mem.get('Threads')} threads")
    width = max(len(r[0]) for r in rows)
    print(f"{'check'.ljust(width)}  ok    figure")
    for what, ok, figure in rows:
        print(f"{what.ljust(width)}  {'PASS' if ok else 'FAIL'}  {figure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", default=str(DEFAULT_RECORDING))
    parser.add_argument("--exercise", default=None, help="default: the label's")
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--poll-hz", type=float, default=10.0)
    parser.add_argument("--slow", type=int, default=1, help="clients that open the stream and never read it")
    parser.add_argument("--slow-wait", type=float, default=30.0, help="seconds after the set to wait for the drop")
    parser.add_argument("--p99-ms", type=float, default=100.0)
    args = parser.parse_args()
    result = run_load(Path(args.recording), args.exercise, args.speed, args.clients, args.poll_hz, args.slow,
                      slow_wait_s=args.slow_wait)
    rows = checks(result, args.p99_ms)
    print_table(result, rows)
    return 0 if all(ok for _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
