"""``backrep record``: the thigh sensor to a recording (format v1), flushed every second.

The only place that chooses the bus: ``/dev/i2c-N`` through smbus2, or with ``--emulate`` an
emulated chip fed with a trace, on a simulated clock paced ``--speed`` times real time. Either
way the same driver and stream run. Lost samples are gaps in ``t_s``; the state of the sensor
(calibrating, reading, lost, reconnecting, stuck) goes to stderr as it changes.
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, TextIO

import numpy as np

from backrep.config import load_config
from backrep.errors import BackrepError, InputFileError, UsageError
from backrep.recording import RecordingWriter, read_recording


class SensorUnavailableError(BackrepError, OSError):
    """No sensor to record from; the message says what to check."""


#: A little past the trace's end, so the last samples are drained from the emulated FIFO.
_EMULATION_TAIL_S = 0.3


def _calibration_dir() -> Path:
    """Where gyro biases are remembered: beside the service's data (the same config decides)."""
    return load_config().resolved_data_dir() / "calibration"


def _ranges_from(metadata: dict[str, str]) -> dict[str, float]:
    """The trace's own ranges, when the MPU-6050 has them, so re-quantising loses nothing."""
    from firmware_bridge.mpu6050 import ACCEL_RANGES_G, GYRO_RANGES_DPS

    ranges = {}
    for key, table, name in (("accel_range_g", ACCEL_RANGES_G, "accel_range_g"),
                             ("gyro_range_dps", GYRO_RANGES_DPS, "gyro_range_dps")):
        try:
            value = float(metadata.get(key, ""))
        except ValueError:
            continue
        if value in table:
            ranges[name] = value
    return ranges


def _metadata(status: Any, side: str | None, started_at: _dt.datetime, extra: dict | None) -> dict:
    metadata = {
        "rate_hz": f"{status.rate_hz:g}", "sensor": status.sensor,
        "accel_range_g": f"{status.accel_range_g:g}", "gyro_range_dps": f"{status.gyro_range_dps:g}",
    }
    if side:
        metadata["side"] = side
    metadata["started_at"] = started_at.isoformat(timespec="seconds")
    metadata.update(extra or {})
    return metadata


def record_many(outs: list[str | Path], *, streams: list[Any], sides: list[str | None],
                seconds: float | None, t_origin_s: float, stop_at_s: float | None = None,
                last_t_s: float | None = None, extra_metadata: dict | None = None,
                log: TextIO = sys.stderr, now: Callable[[], _dt.datetime] | None = None,
                replace: bool = True) -> list[dict]:
    """Write each stream to its own file (two thighs: one per leg, ``side`` in each header),
    read in step, until ``seconds`` of sensor time, ``stop_at_s`` on the streams' clock, or
    Ctrl-C; samples after ``last_t_s`` (the end of an emulated trace) are not written. Without
    ``replace`` a file already there is refused, not overwritten.
    Returns a summary per stream (samples, lost samples, final state, gyro bias)."""
    from firmware_bridge import StreamGroup

    started_at = (now or (lambda: _dt.datetime.now(_dt.timezone.utc)))()
    clock = streams[0].clock
    several = len(streams) > 1
    listeners = []
    for stream, side in zip(streams, sides):
        who = f"{side or f'0x{stream.status.address:02x}'} " if several else ""

        def report(s, who=who) -> None:
            print(f"backrep: {who}sensor {s.state}" + (f": {s.message}" if s.message else ""), file=log)

        stream.add_listener(report)
        listeners.append(report)
    samples, lost = [0] * len(streams), [0] * len(streams)
    first_t_s: float | None = None
    done = [False] * len(streams)
    group = StreamGroup(streams)
    try:
        with ExitStack() as files:
            writers = [files.enter_context(_writer(out, _metadata(st.status, side, started_at, extra_metadata),
                                                   replace))
                       for out, st, side in zip(outs, streams, sides)]
            while not all(done):
                if stop_at_s is not None and clock.monotonic() >= stop_at_s:
                    break
                for i, batch in enumerate(group.read(timeout_s=1.0)):
                    if batch is None or done[i]:
                        continue
                    t_s = batch.t_s - t_origin_s
                    if first_t_s is None:
                        first_t_s = float(t_s[0])   # one start for all, so the files stay in step
                    keep = np.ones(len(t_s), dtype=bool)
                    if seconds is not None:
                        keep &= t_s < first_t_s + seconds
                        done[i] = bool(t_s[-1] >= first_t_s + seconds)
                    if last_t_s is not None:
                        keep &= t_s <= last_t_s
                    writers[i].write(t_s[keep], batch.accel_g[keep], batch.gyro_dps[keep])
                    samples[i] += int(keep.sum())
                    lost[i] += batch.lost_samples
    except KeyboardInterrupt:
        pass   # Ctrl-C is how a recording without --seconds ends; the writers have closed cleanly
    finally:
        for stream, report in zip(streams, listeners):
            stream.remove_listener(report)
    return [{"samples": n, "lost_samples": m, "state": st.status.state,
             "gyro_bias_dps": st.status.gyro_bias_dps, "calibration": st.status.calibration}
            for n, m, st in zip(samples, lost, streams)]


def _already_there(out: Path) -> UsageError:
    return UsageError(f"{out} already exists; give another name, or --force to replace it")


def _writer(out: Path, metadata: dict, replace: bool) -> RecordingWriter:
    try:
        return RecordingWriter(out, metadata, replace=replace)
    except FileExistsError:   # made since it was checked
        raise _already_there(out) from None
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def record(out: str | Path, *, stream: Any, seconds: float | None, side: str | None, **options: Any) -> dict:
    """One sensor to one file; see ``record_many``."""
    return record_many([out], streams=[stream], sides=[side], seconds=seconds, **options)[0]


def _other_address(chip_address: int) -> int:
    """The second thigh's sensor: the same chip with its address pin strapped the other way."""
    return {0x68: 0x69, 0x69: 0x68, 0x6A: 0x6B, 0x6B: 0x6A}.get(chip_address, chip_address ^ 1)


def _checked_out(path: str, replace: bool) -> Path:
    """``path`` as the file to record to, refused before any sensor is opened if it cannot be."""
    out = Path(path)
    if out.exists() and out.is_dir():
        raise UsageError(f"{out} is a directory; give a file name such as {out / 'session.csv'}")
    if not out.parent.exists():
        raise UsageError(f"{out.parent} does not exist")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: {out.parent} is not a folder")
    if out.exists() and not replace:
        raise _already_there(out)
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"cannot write {out}: permission denied")
    return out


def run(args) -> int:
    from firmware_bridge import (BridgeError, SimulatedClock, StreamSettings, emulated_bus_from_recording,
                                 emulated_chip, open_bus, open_stream)

    outs = [_checked_out(args.out, args.force)] + ([_checked_out(args.second, args.force)] if args.second else [])
    if len(outs) == 2 and outs[0].resolve() == outs[1].resolve():
        raise UsageError("--second must name a different file from OUT.csv")
    if args.chip != "mpu6050" and not args.emulate:
        raise UsageError("--chip chooses the emulated chip; it needs --emulate (a real chip is identified)")
    if args.emulate and (args.bus is not None or args.rate_hz is not None):
        raise UsageError("--bus and --rate-hz choose the real sensor; --emulate plays the trace at its own rate")
    bus_number = 1 if args.bus is None else args.bus
    rate_hz = 100.0 if args.rate_hz is None else args.rate_hz
    sides: list[str | None] = [args.side]
    if args.second:
        first = args.side or "right"
        sides = [first, "left" if first == "right" else "right"]
    extra: dict[str, str] = {"source": "backrep record"}
    stop_at_s = last_t_s = None
    streams = []
    try:
        if args.emulate:
            trace = read_recording(args.emulate)
            if trace.samples < 2:
                raise InputFileError(args.emulate, "needs at least two samples to emulate")
            rate_hz = trace.rate_hz
            # paced, deterministic, and waking a little late as a real host does
            clock = SimulatedClock(start_s=float(trace.t_s[0]), speed=args.speed,
                                   sleep_jitter_s=0.3 / rate_hz)
            bus = emulated_bus_from_recording(trace, chip=args.chip, address=args.address, clock=clock)
            first_address = next(iter(bus.chips))
            addresses = [first_address]
            if args.second:
                addresses.append(_other_address(first_address))
                bus.attach(addresses[1], emulated_chip(trace, args.chip, clock))
            settings = StreamSettings(**_ranges_from(trace.metadata)) if args.chip.startswith("mpu") else None
            streams = [open_stream(bus, address=a, rate_hz=rate_hz, clock=clock, settings=settings)
                       for a in addresses]
            t_origin_s = 0.0   # the emulated chip plays the trace on the trace's own clock
            stop_at_s = float(trace.t_s[-1]) + _EMULATION_TAIL_S
            last_t_s = float(trace.t_s[-1]) + 0.5 / rate_hz
            extra = {"source": f"backrep record --emulate {Path(args.emulate).name}"}
        else:
            bus = open_bus(bus_number)
            streams.append(open_stream(bus, address=args.address, rate_hz=rate_hz,
                                       calibration_dir=_calibration_dir()))
            if args.second:
                streams.append(open_stream(bus, address=_other_address(streams[0].status.address),
                                           rate_hz=rate_hz, calibration_dir=_calibration_dir(),
                                           clock=streams[0].clock))
            t_origin_s = streams[0].clock.monotonic()
    except BridgeError as exc:
        for stream in streams:
            stream.close()
        raise SensorUnavailableError(str(exc)) from None
    with ExitStack() as stack:
        for stream in streams:
            stack.enter_context(stream)
        for stream, out in zip(streams, outs):
            print(f"backrep: recording {stream.status.sensor} at 0x{stream.status.address:02x}, "
                  f"{stream.status.rate_hz:g} Hz, to {out}" + ("" if args.seconds or args.emulate
                                                               else " (Ctrl-C stops)"), file=sys.stderr)
        summaries = record_many(outs, streams=streams, sides=sides, seconds=args.seconds,
                                t_origin_s=t_origin_s, stop_at_s=stop_at_s, last_t_s=last_t_s,
                                extra_metadata=extra, replace=args.force)
    for out, summary in zip(outs, summaries):
        bias = ", ".join(f"{v:+.3f}" for v in summary["gyro_bias_dps"])
        print(f"backrep: {out}: {summary['samples']} samples, {summary['lost_samples']} lost; gyro bias "
              f"({summary['calibration']}) [{bias}] °/s removed", file=sys.stderr)
    return 0
