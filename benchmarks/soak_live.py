"""Soak ``backrep serve``: hours of replayed sessions at high speed, the service's memory sampled.

    .venv/bin/python benchmarks/soak_live.py [--hours 2] [--speed 20] [--every 3] [--clients 2]

Runs the real service on ``--demo`` (the bundled recordings, one set per exercise, looped, with
the pauses between sets shortened by the same speed) for ``--hours`` of session time at
``--speed`` times real time, so two hours at 20x take six minutes of wall time, with ``--clients``
SSE clients reading every event and a history store in a temporary data directory. Every
``--every`` wall seconds it samples the service's resident memory (VmRSS from /proc). Ends by
itself: SIGTERM to the service when the time is up.

Prints start, max and end RSS, the least-squares slope over the whole run and over its second
half (MiB per session hour), the sets and reps the clients saw, the sets in the history, and
whether the clients stayed connected. Exit status 1 if a client lost its stream, a set ended
with no reps, or the service did not stop cleanly.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_live import SseReaders, free_port, get_json, memory_kib, start_service, stop_service, wait_up  # noqa: E402


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 for fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return 0.0 if sxx == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0, help="session time to play")
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=3.0, help="wall seconds between memory samples")
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="soak-live-"))
    port = free_port()
    proc = start_service(None, "", args.speed, port, work, max_streams=args.clients + 2, extra_args=("--demo",))
    wall_s = args.hours * 3600.0 / args.speed
    samples: list[tuple[float, int]] = []  # (session hours, VmRSS KiB)
    readers = None
    try:
        wait_up(proc, port, work)
        readers = SseReaders(port, args.clients)
        readers.start()
        started = time.monotonic()
        print(f"soak: {args.hours:g} h of demo sessions at {args.speed:g}x = {wall_s / 60:.1f} min wall, "
              f"{args.clients} SSE clients, RSS every {args.every:g} s; data in {work}", flush=True)
        next_print = 0.0
        while (elapsed := time.monotonic() - started) < wall_s:
            if proc.poll() is not None:
                break
            mem = memory_kib(proc.pid)
            session_h = elapsed * args.speed / 3600.0
            samples.append((session_h, mem.get("VmRSS", 0)))
            if elapsed >= next_print:
                print(f"  {session_h:5.2f} h  RSS {mem.get('VmRSS', 0) / 1024:6.1f} MiB  threads {mem.get('Threads')}",
                      flush=True)
                next_print += 60.0
            time.sleep(args.every)
        _, health = get_json(port, "/api/health")
        _, history = get_json(port, "/api/sessions")
        alive = proc.poll() is None
    finally:
        if readers is not None:
            readers.close()
        code = stop_service(proc)

    hours = [h for h, _ in samples]
    rss_mib = [kib / 1024 for _, kib in samples]
    half = len(samples) // 2
    sets_seen = [sum(1 for e in c.events if e[0] == "set_ended") for c in readers.clients]
    reps_per_set = [e[2].get("reps") for e in readers.clients[0].events if e[0] == "set_ended"]
    still_connected = [not c.closed for c in readers.clients]
    history_sets = history.get("sets", [])
    print(f"session time played: {hours[-1] if hours else 0:.2f} h in {len(samples)} samples")
    print(f"service RSS: start {rss_mib[0]:.1f} MiB, max {max(rss_mib):.1f} MiB, end {rss_mib[-1]:.1f} MiB; "
          f"slope {slope(hours, rss_mib):+.2f} MiB/h over the run, "
          f"{slope(hours[half:], rss_mib[half:]):+.2f} MiB/h over the second half")
    print(f"sets ended, per client: {sets_seen}; reps per set (client 1): min {min(reps_per_set, default=0)}, "
          f"max {max(reps_per_set, default=0)}; sets in the history: {len(history_sets)}")
    print(f"clients still connected at the end: {still_connected}; streams {health['streams']}, "
          f"dropped {health['dropped_streams']}; service alive to the end: {alive}; exit {code}")
    ok = (alive and code == 0 and all(still_connected) and reps_per_set and min(reps_per_set) > 0
          and len(set(sets_seen)) == 1)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
