"""Benchmark: the FIFO-burst bridge against per-sample polling, on the emulated MPU-6050.

    .venv/bin/python benchmarks/bench_bridge.py [--seconds 20] [--jitter-ms 1.0]

For 100 Hz and 1 kHz, each approach runs the real driver code against the emulated chip on a
simulated clock whose sleeps overrun by up to ``--jitter-ms`` (as a loaded Linux host's do):

* fifo: ``open_stream`` (FIFO_COUNT, whole frames in ``i2c_rdwr`` bursts, INT_STATUS);
* poll: a host timer at the sample rate reading the 14 data registers (0x3B..0x48) in one
  burst per sample, the approach the FIFO replaces.

Columns: host CPU per delivered sample (the emulator's own time is measured separately and
taken out; this machine, not a Pi Zero 2 W, whose cores are several times slower); bytes on
the wire per sample (address bytes included); bus occupancy at 100 kHz and 400 kHz (9 clocks
a byte plus a start and a stop per message, over sensor time); transfers per second; and the
samples each approach missed or delivered twice, counted with a marker trace.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from firmware_bridge import (SimulatedClock, StreamSettings, emulated_bus_from_recording, marker_numbers,
                             marker_trace, open_stream)
from firmware_bridge.i2c import SharedBus
from firmware_bridge.mpu6050 import Mpu6050

PER_LSB = 1 / 8192


class TimedBus:
    """An emulated bus whose own CPU time is counted, so it can be taken out of the host's."""

    def __init__(self, bus):
        self.bus, self.name, self.clock = bus, bus.name, bus.clock
        self.emulator_cpu_s = 0.0

    def _timed(self, method, *args):
        start = time.process_time()
        try:
            return getattr(self.bus, method)(*args)
        finally:
            self.emulator_cpu_s += time.process_time() - start

    def read_byte_data(self, *a):
        return self._timed("read_byte_data", *a)

    def write_byte_data(self, *a):
        return self._timed("write_byte_data", *a)

    def read_i2c_block_data(self, *a):
        return self._timed("read_i2c_block_data", *a)

    def i2c_rdwr(self, *a):
        return self._timed("i2c_rdwr", *a)

    def close(self):
        self.bus.close()


def _setup(rate_hz, seconds, jitter_s):
    trace = marker_trace(seconds + 1, rate_hz, PER_LSB)
    clock = SimulatedClock(sleep_jitter_s=jitter_s, seed=1)
    bus = emulated_bus_from_recording(trace, clock=clock)
    return clock, TimedBus(bus), bus


def run_fifo(rate_hz, seconds, jitter_s):
    clock, timed, bus = _setup(rate_hz, seconds, jitter_s)
    numbers = []
    cpu0 = time.process_time()
    with open_stream(timed, rate_hz=rate_hz, clock=clock, settings=StreamSettings(calibrate=False)) as stream:
        start_s, stats0 = clock.monotonic(), (bus.stats.bytes_on_wire, bus.stats.messages, bus.stats.transactions)
        while clock.monotonic() < start_s + seconds:
            batch = stream.read(timeout_s=1.0)
            if batch is not None:
                numbers.append(marker_numbers(batch.accel_g, PER_LSB))
    cpu_s = time.process_time() - cpu0 - timed.emulator_cpu_s
    return _result("fifo", rate_hz, np.concatenate(numbers), cpu_s, bus, stats0, clock.monotonic() - start_s)


def run_poll(rate_hz, seconds, jitter_s):
    clock, timed, bus = _setup(rate_hz, seconds, jitter_s)
    shared = SharedBus(timed, name="emulated")
    driver = Mpu6050(shared, 0x68, clock)
    driver.initialise(rate_hz)
    numbers = []
    period = 1.0 / rate_hz
    cpu0 = time.process_time()
    start_s, stats0 = clock.monotonic(), (bus.stats.bytes_on_wire, bus.stats.messages, bus.stats.transactions)
    due = start_s
    while clock.monotonic() < start_s + seconds:
        due += period
        clock.sleep(max(0.0, due - clock.monotonic()))
        raw = driver.read_data_registers()
        numbers.append(int(raw[0]))
    cpu_s = time.process_time() - cpu0 - timed.emulator_cpu_s
    got = np.array(numbers) + 15000
    return _result("poll", rate_hz, got, cpu_s, bus, stats0, clock.monotonic() - start_s)


def _result(approach, rate_hz, numbers, cpu_s, bus, stats0, span_s):
    steps = np.diff(numbers)
    wire = bus.stats.bytes_on_wire - stats0[0]
    messages = bus.stats.messages - stats0[1]
    transactions = bus.stats.transactions - stats0[2]
    clocks = wire * 9 + 2 * messages
    return {
        "approach": approach, "rate_hz": rate_hz, "samples": len(numbers),
        "cpu_us": cpu_s / len(numbers) * 1e6, "bytes": wire / len(numbers),
        "occ100": clocks / span_s / 100_000 * 100, "occ400": clocks / span_s / 400_000 * 100,
        "transfers_s": transactions / span_s,
        "missed": int(np.sum(steps[steps > 1] - 1)), "duplicated": int(np.sum(steps == 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--jitter-ms", type=float, default=1.0)
    args = parser.parse_args()
    rows = []
    for rate_hz in (100.0, 1000.0):
        rows.append(run_fifo(rate_hz, args.seconds, args.jitter_ms / 1000))
        rows.append(run_poll(rate_hz, args.seconds, args.jitter_ms / 1000))
    print(f"emulated MPU-6050, {args.seconds:g} s of sensor time each, host sleeps overrun by up to "
          f"{args.jitter_ms:g} ms")
    header = (f"{'approach':8} {'rate':>6} {'CPU/sample':>11} {'bytes/sample':>13} {'bus@100k':>9} "
              f"{'bus@400k':>9} {'transfers/s':>12} {'missed':>7} {'dup':>6}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['approach']:8} {r['rate_hz']:>4.0f}Hz {r['cpu_us']:>9.1f}us {r['bytes']:>13.2f} "
              f"{r['occ100']:>8.1f}% {r['occ400']:>8.1f}% {r['transfers_s']:>12.0f} {r['missed']:>7} "
              f"{r['duplicated']:>6}")


if __name__ == "__main__":
    main()
