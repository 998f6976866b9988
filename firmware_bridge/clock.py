"""Clocks the bridge reads time from, injected like gpiozero's pin factory.

Nothing in the bridge calls ``time`` directly: the stream, the emulated chips and the tests
share one clock object, so a simulated clock runs a minute of sensor data in milliseconds.
"""
from __future__ import annotations

import random
import time
from typing import Protocol


class Clock(Protocol):
    """What the bridge needs from time: a monotonic reading and a way to wait."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The host's real monotonic clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class SimulatedClock:
    """Time that moves only when someone sleeps or advances it; tests and replays use it.

    ``sleep_jitter_s``: each sleep overruns by a random amount up to this, like a busy host's.
    ``speed``: when given, each ``sleep`` also waits ``seconds / speed`` of real time, so an
    emulation runs paced (``record --emulate --speed X``) yet stays deterministic: a busy host
    slows it down instead of overflowing the emulated FIFO.
    """

    def __init__(self, start_s: float = 0.0, speed: float | None = None, *,
                 sleep_jitter_s: float = 0.0, seed: int = 0) -> None:
        self._now_s = float(start_s)
        self.speed = speed
        self.sleep_jitter_s = sleep_jitter_s   # a sleep overruns by up to this, as Linux's do
        self._rng = random.Random(seed)

    def monotonic(self) -> float:
        return self._now_s

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            if self.sleep_jitter_s:
                seconds += self._rng.uniform(0.0, self.sleep_jitter_s)
            self._now_s += seconds
            if self.speed:
                time.sleep(seconds / self.speed)

    def advance(self, seconds: float) -> None:
        """Let time pass at once, without the caller doing anything (a stalled host, a transfer)."""
        if seconds > 0:
            self._now_s += seconds


class ScaledClock:
    """Real time running ``speed`` times faster: ``record --emulate --speed X``."""

    def __init__(self, speed: float, start_s: float = 0.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.speed = float(speed)
        self._start_s = float(start_s)
        self._real0_s = time.monotonic()

    def monotonic(self) -> float:
        return self._start_s + (time.monotonic() - self._real0_s) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)
