"""Live latency and memory of ``backrep serve``: run it, read the figures it prints.

    .venv/bin/python benchmarks/bench_live.py [--seconds 20] [--speed 1] [--recording FILE]

Starts the real service (waitress, the real engine) replaying a recording, connects 1 and then
30 SSE clients, and measures, for every batch of samples, the time from the batch entering the
engine (the ``mono_s`` the service stamps on each state and engine event, CLOCK_MONOTONIC, which
is system-wide on Linux) to the event arriving at a client. All clients are read by one thread
with ``selectors`` so the measuring side adds as little as it can. Then prints median and p99
per client count, and the service's resident memory (VmRSS now, VmHWM peak).
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_live import free_port, memory_kib  # noqa: E402  (one copy of the service helpers)

ROOT = Path(__file__).resolve().parent.parent


def measure(port: int, clients: int, seconds: float) -> list[float]:
    """Latencies in ms from engine entry to arrival, over all clients, each batch counted once per client."""
    selector = selectors.DefaultSelector()
    buffers: dict[socket.socket, bytes] = {}
    seen: dict[socket.socket, set] = {}
    for _ in range(clients):
        sock = socket.create_connection(("127.0.0.1", port))
        # HTTP/1.0: the stream comes unchunked, to be read until the server closes it.
        sock.sendall(b"GET /api/events HTTP/1.0\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        buffers[sock] = b""
        seen[sock] = set()
    latencies_ms: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            now = time.monotonic()
            data = sock.recv(65536)
            if not data:
                selector.unregister(sock)
                continue
            buffers[sock] += data
            *lines, buffers[sock] = buffers[sock].split(b"\n")
            for line in lines:
                if not line.startswith(b"data: "):
                    continue
                payload = json.loads(line[6:])
                mono_s = payload.get("mono_s")
                # A state pushed on the timer repeats an older batch's stamp: count each batch once.
                if mono_s is None or mono_s in seen[sock]:
                    continue
                seen[sock].add(mono_s)
                latencies_ms.append((now - mono_s) * 1000.0)
    for sock in buffers:
        sock.close()
    return latencies_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--recording", default=str(ROOT / "backrep" / "demo" / "knee_to_chest.csv"))
    parser.add_argument("--exercise", default="knee_to_chest")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    config = tmp / "config.toml"
    config.write_text("[server]\nmax_streams = 34\n")  # 30 clients and headroom; threads = 34 + 4
    port = free_port()
    backrep = Path(sys.executable).parent / "backrep"
    proc = subprocess.Popen([str(backrep), "serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(config),
                             "--data-dir", str(tmp / "data"), "--replay", args.recording, "--exercise", args.exercise,
                             "--speed", str(args.speed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        idle = memory_kib(proc.pid)
        print(f"recording {args.recording} at speed {args.speed:g}, {args.seconds:g} s per run, {os.cpu_count()} CPUs")
        for clients in (1, 30):
            latencies = measure(port, clients, args.seconds)
            mem = memory_kib(proc.pid)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
            print(f"{clients:2d} client(s): {len(latencies):6d} deliveries  median {statistics.median(latencies):6.2f} ms"
                  f"  p99 {p99:6.2f} ms  max {latencies[-1]:6.2f} ms   service RSS {mem['VmRSS'] / 1024:5.1f} MiB")
        print(f"service resident memory: {idle['VmRSS'] / 1024:.1f} MiB before clients, "
              f"{mem['VmRSS'] / 1024:.1f} MiB now, peak {mem['VmHWM'] / 1024:.1f} MiB")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
