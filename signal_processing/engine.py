"""The streaming engine: samples in, events out, the same code live and in replay.

Three stages, each streaming and each indifferent to how the samples are chunked:

1. Reference: wait for the thigh to lie still (the reference pose), then take gravity and the
   gyroscope's bias from it.
2. Inclination (``orientation.InclinationEstimator``) for every sample, smoothed by a critically
   damped low-pass and resampled onto a steady grid of at most 50 Hz, so the counter costs the
   same at 25 Hz and at 1 kHz.
3. Reps and holds (``counter.RepCounter``) on that grid.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from signal_processing.counter import CounterSettings, LostGap, RepCounter
from signal_processing.events import EngineState, Event
from signal_processing.exercises import Exercise
from signal_processing.orientation import InclinationEstimator, OrientationSettings


#: Readings beyond these are no measurement (the largest MEMS ranges are 400 g and 4000 deg/s);
#: squared and summed, numbers like 1e300 overflow.
MAX_ACCEL_G = 1.0e4
MAX_GYRO_DPS = 1.0e6


@dataclass(frozen=True)
class EngineSettings:
    """Tunables of the whole engine, with units in the names; the defaults are the product's."""

    #: The reference pose: this long with the sensor still.
    reference_still_s: float = 1.0
    #: "Still" for the reference: per-axis standard deviations below these, beyond the
    #: sensor's white noise (see `_quiet`).
    reference_accel_sd_g: float = 0.012
    reference_gyro_sd_dps: float = 1.5
    #: With no still second in this long, take the quietest second there was.
    reference_timeout_s: float = 8.0
    #: A stream that opens still for at least this long, then moves, opened in the reference
    #: pose (sessions start in it) even though the stillness was shorter than a second. This is
    #: three samples at 25 Hz, the fewest that tell still from moving. A real set cut to start
    #: a moment before its first rep may have no more: a movement starts slowly, and its first tenth
    #: of a second reads as still.
    reference_opening_s: float = 0.06
    #: A window's noise, read from its own few samples, is uncertain by about its variance over
    #: the square root of their count: stillness allows for this many times that (see `_quiet`).
    reference_noise_z: float = 4.0
    #: Time constant of each of the two cascaded smoothing stages.
    smoothing_tau_s: float = 0.1
    #: Step of the counter's grid.
    grid_step_s: float = 0.02
    #: A step this many sample periods long means samples were lost.
    gap_periods: float = 2.5
    #: After a gap longer than the smoothing's delay, "up" is re-taken from the mean
    #: accelerometer reading over this long (several tremor cycles).
    resume_s: float = 0.2
    #: The thigh's speed when last seen before a gap is read over this long: long enough to
    #: average out one sample's noise at 1 kHz, short enough to be the speed at that moment.
    last_seen_window_s: float = 0.1
    #: An undocumented exercise's reps' way is forgotten when the thigh, between reps, turns
    #: this many times the typical rep square to it (from the rest the latest rep was counted
    #: from) and not a rep threshold along it: the way was learnt from something else (a
    #: wiggle to and fro before the set, counted before the range was known). Learnt again
    #: only once the reps agree on it: the length of the sum of their ways, one each, at
    #: least `way_agreement` of their number.
    way_off_factor: float = 3.0
    way_agreement: float = 0.6
    #: The way is also forgotten after this many movements in a row against it, each as far
    #: back past the rest as the typical rep and back to it, while a rep counted before the
    #: range was known is under review: the way was learnt from movements before the set that
    #: went the other way (three agree with each other). The movements were reps, and count;
    #: the reps under review that went against them are taken back.
    trips_back_to_forget: int = 2
    #: "Against the way" is this far past square to it: a real set's own small rep went square
    #: to the others (94 degrees), and a small rep's way is only known to a few degrees.
    against_past_square_deg: float = 20.0
    orientation: OrientationSettings = field(default_factory=OrientationSettings)
    counter: CounterSettings = field(default_factory=CounterSettings)


class _RunningSums:
    """Running sums over a block of samples (rows), for the variance of any window of them
    and the mean square of the steps between its samples, in O(1) per window."""

    def __init__(self, x: np.ndarray) -> None:
        zero = np.zeros((1, x.shape[1]))
        self._sum = np.vstack([zero, np.cumsum(x, axis=0)])
        self._sum_sq = np.vstack([zero, np.cumsum(x * x, axis=0)])
        steps_sq = np.vstack([zero, np.diff(x, axis=0) ** 2])     # row k: (x[k] - x[k-1])^2
        self._steps_sq = np.vstack([zero, np.cumsum(steps_sq, axis=0)])

    def var(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Each column's variance over each window [i, j)."""
        count = (j - i)[:, None]
        mean = (self._sum[j] - self._sum[i]) / count
        return np.maximum((self._sum_sq[j] - self._sum_sq[i]) / count - mean * mean, 0.0)

    def step_var(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Each column's mean square step between neighbours inside each window [i, j): twice
        the variance of white noise."""
        return (self._steps_sq[j] - self._steps_sq[i + 1]) / (j - i - 1)[:, None]


@dataclass
class _TripBack:
    """A movement back past the rest, against an undocumented set's way: from when it went half
    a rep threshold back (and from which rest), how far back it has gone, the "up" it went
    furthest to, and when it came back within half a rep threshold of the rest."""

    start_s: float
    rest_offset_deg: float
    deepest_deg: float
    far_up: tuple[float, float, float]
    end_s: float = math.nan


@dataclass
class _Resumption:
    """After a gap longer than the smoothing's delay: where the smoothed angle stood before it,
    and the samples of the first moments after it, held until there are enough to take "up"."""

    from_t_s: float                   # the last grid point before the gap
    from_angle_deg: float
    last_seen_s: float                # the last sample before the gap
    last_seen_deg: float              # the angle there, unsmoothed
    last_seen_dps: float              # how fast it was changing there
    last_seen_up: tuple | None        # "up" there, for an exercise of unknown plane
    seen_again_s: float | None = None
    #: The samples since, as (t_s, dt_s, accel_g, gyro_dps) chunks.
    held: list = field(default_factory=list)
    taken: bool = False               # "up" re-taken; the speed across the gap not yet set


class Engine:
    """Counts reps and times holds for one exercise on one thigh, one chunk at a time.

    ``update(t_s, accel_g, gyro_dps)`` takes arrays of shape (N,), (N, 3), (N, 3) in the
    sensor's axes and returns the events those samples completed. Live and replay call exactly
    this; the chunk size does not change the result. ``finish()`` ends the stream.
    """

    def __init__(self, exercise: Exercise, settings: EngineSettings | None = None) -> None:
        self.exercise = exercise
        self.settings = settings or EngineSettings()
        self.inclination = InclinationEstimator(replace(
            self.settings.orientation, rest_poses_before_axis=exercise.start_pose_deg is None))
        s = self.settings
        self.counter = RepCounter(exercise, s.counter, delay_s=2.0 * s.smoothing_tau_s)
        self._past_square = math.sin(math.radians(s.against_past_square_deg))
        self.reset()

    def reset(self) -> None:
        self.inclination.reset()
        self.counter.reset()
        self.phase = "reference"
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._reference_progress = 0.0
        self._opening_known = False
        self._samples = 0
        self._lost = 0
        self._period_s: float | None = None
        self._last_t_s: float | None = None
        self._smooth1 = self._smooth2 = 0.0
        self._up1 = self._up2 = (0.0, 0.0, 1.0)
        self._rest_up = (0.0, 0.0, 1.0)
        self._rest_offset_deg = 0.0
        # The way an undocumented exercise's reps go (see `_learn_way`).
        self._rep_way: tuple[float, float, float] | None = None
        self._way_sum = (0.0, 0.0, 0.0)
        self._way_parts: list[tuple[float, float, float]] = []   # each counted rep's
        self._reps_seen = 0
        self._way_forgotten = False
        self._counted_rest_up = (0.0, 0.0, 1.0)   # the rest when the latest rep was counted
        self._far_up: tuple[float, float, float] | None = None    # farthest from the rest
        self._far_cos = 2.0
        self._trip_back: _TripBack | None = None
        self._trips_back: list[_TripBack] = []
        self._grid_next_s = -math.inf
        self._grid_last: tuple[float, float] | None = None
        self._speed_dps = 0.0
        self._angle_deg: float | None = None
        #: The unsmoothed angle over the latest `last_seen_window_s`, as (t_s, angle_deg).
        self._raw_tail: deque[tuple[float, float]] = deque()
        self._last_up: tuple[float, float, float] | None = None
        self._resumption: _Resumption | None = None

    # -- public API ----------------------------------------------------------------------------
    def update(self, t_s, accel_g, gyro_dps) -> list[Event]:
        t_s = np.asarray(t_s, dtype=float).reshape(-1)
        accel_g = np.asarray(accel_g, dtype=float).reshape(-1, 3)
        gyro_dps = np.asarray(gyro_dps, dtype=float).reshape(-1, 3)
        if not (len(t_s) == len(accel_g) == len(gyro_dps)):
            raise ValueError("t_s, accel_g and gyro_dps must have the same number of samples")
        if len(t_s) == 0:
            return []
        finite = (np.isfinite(t_s) & (np.abs(accel_g) <= MAX_ACCEL_G).all(axis=1)
                  & (np.abs(gyro_dps) <= MAX_GYRO_DPS).all(axis=1))
        if not finite.all():
            # A sample with a NaN or infinity in it, or a reading no sensor makes, is no
            # measurement: it is lost, not used.
            t_s, accel_g, gyro_dps = t_s[finite], accel_g[finite], gyro_dps[finite]
            if len(t_s) == 0:
                return []
        # Drop samples that do not move time forward (a live source's duplicate, never data).
        last = -math.inf if self._last_t_s is None else self._last_t_s
        dt = np.diff(t_s, prepend=last)
        if (dt <= 0).any():
            keep = t_s > np.maximum.accumulate(np.concatenate(([last], t_s[:-1])))
            t_s, accel_g, gyro_dps = t_s[keep], accel_g[keep], gyro_dps[keep]
            if len(t_s) == 0:
                return []
            dt = np.diff(t_s, prepend=last)
        self._samples += len(t_s)
        if self.phase == "reference":
            return self._update_reference(t_s, accel_g, gyro_dps)
        return self._update_ready(t_s, dt, accel_g, gyro_dps)

    def finish(self) -> list[Event]:
        """End of the stream: nothing is invented; a hold that never ended is dropped."""
        return self.counter.finish()

    @property
    def state(self) -> EngineState:
        c = self.counter
        return EngineState(
            exercise=self.exercise.id,
            phase=self.phase,
            reference_progress=1.0 if self.phase == "ready" else self._reference_progress,
            reps=c.reps,
            holds=tuple(c.holds),
            hold_active=c.hold_active,
            hold_elapsed_s=c.hold_elapsed_s(),
            hold_target_s=self.exercise.hold_target_s,
            angle_deg=self._angle_deg,
            t_s=self._last_t_s,
            rate_hz=None if not self._period_s else 1.0 / self._period_s,
            samples=self._samples,
            lost_samples=self._lost,
        )

    # -- stage 1: the reference pose -----------------------------------------------------------
    def _update_reference(self, t_s, accel_g, gyro_dps) -> list[Event]:
        self._pending.append((t_s, accel_g, gyro_dps))
        t = np.concatenate([p[0] for p in self._pending])
        a = np.concatenate([p[1] for p in self._pending])
        g = np.concatenate([p[2] for p in self._pending])
        self._last_t_s = float(t[-1])
        window = self._reference_window(t, a, g)
        if window is None:
            return []
        start, end = window
        self.inclination.start(a[start:end].mean(axis=0), g[start:end].mean(axis=0))
        # The sample period, from the reference second: lost samples are steps much longer.
        steps = np.diff(t[start:end])
        self._period_s = float(np.median(steps)) if len(steps) else 0.01
        self.phase = "ready"
        self._pending = []
        events = [Event("reference_done", float(t[end - 1]))]
        self._last_t_s = float(t[end - 1])
        if end < len(t):
            events += self._update_ready(t[end:], np.diff(t[end - 1:]), a[end:], g[end:])
        return events

    def _reference_window(self, t, a, g) -> tuple[int, int] | None:
        """The first still window of the reference length, or the quietest after a timeout."""
        s = self.settings
        n = len(t)
        if n < 3:
            return None
        # Window ends: for every start i, the first index at least reference_still_s later.
        ends = np.searchsorted(t, t + s.reference_still_s, side="left")
        valid = np.nonzero(ends < n)[0]
        x = np.concatenate([a, g], axis=1)
        sums = _RunningSums(x)
        if not self._opening_known:
            opening = self._still_opening(t, sums)
            if opening is not None:
                return 0, opening
        if len(valid):
            i = valid
            j = ends[valid] + 1
            quiet = self._quiet(sums, i, j)
            ok = np.nonzero(quiet <= 1.0)[0]
            if len(ok):
                k = ok[0]
                return int(i[k]), int(j[k])
            timed_out = t[-1] - t[0] >= s.reference_timeout_s
            if timed_out:
                inside = np.nonzero(t[j - 1] <= t[0] + s.reference_timeout_s)[0]
                k = inside[np.argmin(quiet[inside])] if len(inside) else int(np.argmin(quiet))
                return int(i[k]), int(j[k])
        # Progress: how long the sensor has been still up to now.
        tail_start = int(np.searchsorted(t, t[-1] - s.reference_still_s))
        if n - tail_start >= 3:
            quiet_now = float(self._quiet(sums, np.array([tail_start]), np.array([n]))[0])
            still_for = t[-1] - t[tail_start]
            self._reference_progress = min(0.99, still_for / s.reference_still_s) if quiet_now <= 1.0 else 0.0
        return None

    def _quiet(self, sums: _RunningSums, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """How far from still each window of samples [i, j) is: 1 at the thresholds.

        The thresholds are for the pose's own movement. A sensor's white noise (and a tremor
        too quick to be a movement) is allowed on top: it is read from the steps between
        samples, which a movement barely changes, and without the allowance a noisier part
        (0.012 g a sample) was never still, and the reference fell in the first rep's hold.
        The allowance is widened by the uncertainty of a noise read from few samples, which
        matters for the opening's (see `_still_opening`).
        """
        s = self.settings
        noise = sums.step_var(i, j) / 2
        allowance = noise * (1.0 + s.reference_noise_z / np.sqrt(j - i)[:, None])
        excess = np.sqrt(np.maximum(sums.var(i, j) - allowance, 0.0))
        return np.maximum(excess[:, :3].max(axis=1) / s.reference_accel_sd_g,
                          excess[:, 3:].max(axis=1) / s.reference_gyro_sd_dps)

    def _still_opening(self, t, sums: _RunningSums) -> int | None:
        """End of the still stretch the stream opened with, if it lasted at least
        ``reference_opening_s`` and then the thigh moved; None otherwise.

        A recording that starts a moment before the first movement (the recorder was started
        late) still started in the reference pose: without this, the first still
        second would fall inside the first rep's hold, and every rest would read as a rep.
        """
        s = self.settings
        k = np.arange(2, len(t) + 1)
        quiet = self._quiet(sums, np.zeros_like(k), k)
        moving = quiet > 1.0
        # The thigh moved where the opening stopped looking still and went on so for
        # `reference_opening_s`. A few samples' spread is a poor measure of the noise: a noisy
        # part at 1 kHz read as moving 3 ms in (one sample far out is a large share of the
        # spread of a handful), the opening was lost and the reference fell after the first rep.
        starts = np.nonzero(moving & ~np.concatenate(([False], moving[:-1])))[0]
        stops = np.nonzero(~moving)[0]
        moved = None
        for first in starts:
            after = np.searchsorted(stops, first)
            last = int(stops[after]) - 1 if after < len(stops) else len(k) - 1
            if t[k[last] - 1] - t[k[first] - 1] >= s.reference_opening_s:
                moved = int(first)
                break
            if after == len(stops):
                return None                    # moving for now, not yet for long enough
        if moved is None:
            return None                        # still throughout so far: the usual rule
        self._opening_known = True             # later samples cannot change the opening
        end = int(k[moved]) - 1                # samples [0, end) were still
        still_s = t[end - 1] - t[0]
        # A full still second is the usual rule's, which takes the same first second whatever
        # the chunking; this one only covers openings too short for it.
        if s.reference_opening_s <= still_s < s.reference_still_s:
            return end
        return None

    # -- stages 2 and 3 -------------------------------------------------------------------------
    def _update_ready(self, t_s, dt, accel_g, gyro_dps) -> list[Event]:
        """``dt`` is each sample's step from the one before (the first may be infinite)."""
        period_s = self._period_s
        events: list[Event] = []
        gap = dt > self.settings.gap_periods * period_s
        if not gap.any():
            events = self._run(t_s, dt, accel_g, gyro_dps)
        else:
            dt = dt.copy()
            bounds = np.nonzero(gap)[0].tolist() + [len(t_s)]
            lo = 0
            for hi in bounds:
                if hi > lo:
                    events += self._run(t_s[lo:hi], dt[lo:hi], accel_g[lo:hi], gyro_dps[lo:hi])
                if hi < len(t_s):
                    # Lost samples: count them. The filter's pull toward gravity finds where the
                    # thigh is now within a fraction of a second; no one sample is trusted.
                    if math.isfinite(dt[hi]):
                        self._lost += max(0, int(round(dt[hi] / period_s)) - 1)
                        if dt[hi] > 2.0 * self.settings.smoothing_tau_s and self._grid_last is not None:
                            # Longer than the smoothing's delay: whatever the thigh did unseen
                            # is done; start again from where it is (see `_run`).
                            last_seen_s = float(t_s[hi - 1]) if hi else self._last_t_s
                            self._resumption = _Resumption(*self._grid_last, last_seen_s,
                                                           *self._last_seen_deg_dps(),
                                                           self._last_up)
                    # No speed from the samples either side: an average over the gap would
                    # read as a pause.
                    self._grid_last = None
                    dt[hi] = period_s
                lo = hi
        self._last_t_s = float(t_s[-1])
        return events

    def _run(self, t_s, dt_s, accel_g, gyro_dps) -> list[Event]:
        tilt = self.exercise.measure == "tilt"
        ups: list | None = [] if tilt else None
        resumption = self._resumption
        jump = False
        if resumption is not None and not resumption.taken:
            # The gyroscope did not see what the thigh did in the gap: take "up" afresh from the
            # accelerometer over the first moments after it (one reading alone can be tens of
            # degrees out under a tremor), as it was at the first sample seen, and count on
            # from there. Until those moments are in, the samples wait.
            if resumption.seen_again_s is None:
                resumption.seen_again_s = float(t_s[0])
            resumption.held.append((t_s, dt_s, accel_g, gyro_dps))
            if t_s[-1] < resumption.seen_again_s + self.settings.resume_s:
                return []
            t_s, dt_s, accel_g, gyro_dps = (np.concatenate(parts) for parts in zip(*resumption.held))
            resumption.held = []
            split = int(np.searchsorted(t_s, resumption.seen_again_s + self.settings.resume_s))
            head = accel_g[:split]
            calm = (np.abs(np.linalg.norm(head, axis=1) - self.inclination.gravity_g)
                    < self.settings.orientation.jolt_g)
            if calm.any():
                self.inclination.resume(self.inclination.first_up_of(dt_s[:split], head,
                                                                     gyro_dps[:split], calm))
            retaken_s = float(t_s[min(split, len(t_s) - 1)])
            resumption.taken = jump = True
        angle = self.inclination.update(dt_s, accel_g, gyro_dps, ups)
        rereferenced_at = None if tilt else self.inclination.rereferenced_at
        tau = self.settings.smoothing_tau_s
        grid_step = self.settings.grid_step_s
        e1, e2 = self._smooth1, self._smooth2
        v1, v2 = self._up1, self._up2
        if self._angle_deg is None:
            # The first samples: smoothed from the reference pose, where the angle is zero by
            # definition. The first sample alone may be a movement's first jolt (a recorder
            # started a moment before the first rep), and a smoothed angle started from it dips
            # back toward the rest: a "rep" the wrong way.
            e1 = e2 = 0.0
            if tilt:
                v1 = v2 = self._rest_up = self.inclination.reference_up
        elif jump:
            # The first samples after a long gap: nothing to smooth against.
            e1 = e2 = float(angle[0])
            if tilt:
                v1 = v2 = ups[0]
        events: list[Event] = []
        if jump:
            # The smoothing runs its delay behind the thigh, and what it had not caught up with
            # when the samples stopped would be lost with them: a quick rep whose far end fell
            # in the gap showed 10 of its 25 degrees, under the rep threshold. The counter is
            # stepped once more with the thigh where it was last seen, at its own angle there,
            # a delay later (the gap is longer than that), as the smoothing would have shown it.
            events += self.counter.step(resumption.last_seen_s + self.counter.delay_s,
                                        resumption.last_seen_deg, resumption.last_seen_dps)
            if tilt and resumption.last_seen_up is not None:
                self._follow_reps_way(resumption.last_seen_up, events)
            self.counter.gap = LostGap(
                resumption.last_seen_s, resumption.seen_again_s, retaken_s=retaken_s,
                # Where the thigh was last seen, not where the smoothing had got to: a
                # thigh that arrived just before the gap did not move across it.
                moved_deg=(self._tilt_deg(v2) if tilt else e2) - resumption.last_seen_deg,
                last_seen_dps=resumption.last_seen_dps,
                seen_again_dps=self._turn_rate_dps(t_s, gyro_dps))
        next_s = self._grid_next_s
        last = self._grid_last
        speed = self._speed_dps
        counter = self.counter
        ts = t_s.tolist()
        dts = dt_s.tolist()
        for i, a in enumerate(angle.tolist()):
            dt = dts[i]
            k = dt / (tau + dt)
            t = ts[i]
            if tilt:
                ux, uy, uz = ups[i]
                v1 = (v1[0] + k * (ux - v1[0]), v1[1] + k * (uy - v1[1]), v1[2] + k * (uz - v1[2]))
                v2 = (v2[0] + k * (v1[0] - v2[0]), v2[1] + k * (v1[1] - v2[1]), v2[2] + k * (v1[2] - v2[2]))
                if t < next_s:
                    continue
                e2 = self._tilt_deg(v2)
                if self._rep_way is not None and counter.phase == counter.LOW and self._way_is_off(v2, e2):
                    # Measured from the rest the last rep was counted from: the latest long
                    # rest followed this movement, which read as no excursion.
                    self._rep_way, self._way_forgotten = None, True
                    self._rest_up = self._counted_rest_up
                    e2 = self._tilt_deg(v2)
            else:
                if i == rereferenced_at:
                    # The pose the thigh was still in was a new rest (the strap slipped round
                    # it before the first rep), and the angle is measured from there on: no
                    # movement to smooth or count across the jump.
                    e1 = e2 = a
                    last, speed = None, 0.0
                    events += counter.take_new_reference(t)
                e1 += k * (a - e1)
                e2 += k * (e1 - e2)
                if t < next_s:
                    continue
            if last is not None and t > last[0]:
                raw = (e2 - last[1]) / (t - last[0])
                speed += min(1.0, (t - last[0]) / (tau / 2 + t - last[0])) * (raw - speed)
            elif resumption is not None and t > resumption.from_t_s:
                # Across a long gap the thigh moved at least this fast, on average.
                speed = (e2 - resumption.from_angle_deg) / (t - resumption.from_t_s)
                resumption = self._resumption = None
            last = (t, e2)
            next_s = t + grid_step - 1e-9 if t - next_s > grid_step else next_s + grid_step
            stepped = counter.step(t, e2, speed)
            if tilt:
                self._follow_reps_way(v2, stepped)
                if self._rep_way is not None or self._trips_back:
                    stepped += self._reps_found_back(t, e2, v2, stepped)
            events += stepped
            if tilt and counter.long_rest:
                # A long rest between reps: measure from here on (the person has shifted).
                n = math.sqrt(v2[0] * v2[0] + v2[1] * v2[1] + v2[2] * v2[2])
                self._rest_up = (v2[0] / n, v2[1] / n, v2[2] / n)
                self._rest_offset_deg = e2
                if self._rep_way is not None:
                    self._rep_way = self._tangent(self._rep_way, self._rest_up)
        self._smooth1, self._smooth2 = e1, e2
        self._up1, self._up2 = v1, v2
        self._keep_raw_tail(ts, angle, ups)
        self._grid_next_s, self._grid_last, self._speed_dps = next_s, last, speed
        self._angle_deg = e2
        return events

    def _turn_rate_dps(self, t_s: np.ndarray, gyro_dps: np.ndarray) -> float:
        """How fast the sensor was turning over the first `last_seen_window_s` of ``t_s``: the
        gyroscope's reading, since the estimate of the angle is only starting afresh."""
        n = max(1, int(np.searchsorted(t_s, t_s[0] + self.settings.last_seen_window_s)))
        rates = np.linalg.norm(gyro_dps[:n] - self.inclination.gyro_bias_dps, axis=1)
        return float(rates.mean())

    def _keep_raw_tail(self, ts: list, angle: np.ndarray, ups: list | None) -> None:
        """Keep the unsmoothed angle over the last `last_seen_window_s` (and the sample before)."""
        window_s = self.settings.last_seen_window_s
        tail = self._raw_tail
        for j in range(max(0, bisect.bisect_left(ts, ts[-1] - window_s) - 1), len(ts)):
            tail.append((ts[j], self._tilt_deg(ups[j]) if ups is not None else float(angle[j])))
        while len(tail) > 2 and tail[1][0] <= ts[-1] - window_s:
            tail.popleft()
        if ups is not None:
            self._last_up = ups[-1]

    def _last_seen_deg_dps(self) -> tuple[float, float]:
        """The unsmoothed angle at the latest sample, and how fast it was changing."""
        tail = self._raw_tail
        if not tail:
            return 0.0, 0.0
        (t0, y0), (t1, y1) = tail[0], tail[-1]
        return y1, (y1 - y0) / (t1 - t0) if t1 > t0 else 0.0

    @staticmethod
    def _across(v, r) -> tuple[float, float, float]:
        """The part of ``v`` square to the unit vector ``r``."""
        c = v[0] * r[0] + v[1] * r[1] + v[2] * r[2]
        return v[0] - c * r[0], v[1] - c * r[1], v[2] - c * r[2]

    @classmethod
    def _tangent(cls, v, r) -> tuple[float, float, float] | None:
        """The unit direction of ``v`` square to the unit vector ``r``; None if ``v`` is along it."""
        x, y, z = cls._across(v, r)
        n = math.sqrt(x * x + y * y + z * z)
        return None if n < 1e-9 else (x / n, y / n, z / n)

    def _follow_reps_way(self, up: tuple[float, float, float], events: list[Event]) -> None:
        """Keep the farthest "up" from the rest during each rep, and learn the reps' way from
        those of counted reps."""
        counter = self.counter
        if counter.recounted:
            # The reps just counted again from a pose found at the far end were not seen from
            # here: the farthest "up" so far is the move into that pose, no rep's way.
            self._far_cos, self._far_up = 2.0, None
        if counter.phase == counter.HIGH:
            r = self._rest_up
            c = (up[0] * r[0] + up[1] * r[1] + up[2] * r[2]) / math.sqrt(
                up[0] * up[0] + up[1] * up[1] + up[2] * up[2])
            if c < self._far_cos:
                self._far_cos, self._far_up = c, up
        if events:
            self._learn_way(events)
        if counter.phase == counter.LOW:
            self._far_cos, self._far_up = 2.0, None

    def _learn_way(self, events: list[Event]) -> None:
        """Which way from the rest an undocumented exercise's reps go: the sum of how far each
        counted rep took "up" from the rest (so a big rep outweighs a small one), taken once the
        counter has judged its first reps (a rep it takes back as an abandoned movement takes
        its way back here too). Until then any way from the rest is a rep."""
        for ev in events:
            if ev.kind == "rep_counted":
                u = self._far_up
                part = (0.0, 0.0, 0.0)
                if u is not None:
                    part = self._across(self._unit(u), self._rest_up)
                self._way_parts.append(part)
                self._counted_rest_up = self._rest_up
                w = self._way_sum
                self._way_sum = (w[0] + part[0], w[1] + part[1], w[2] + part[2])
                self._reps_seen += 1
            elif ev.kind == "rep_retracted" and 0 < ev.retracted <= len(self._way_parts):
                self._drop_way_part(ev.retracted - 1)
            else:
                continue
            if self._reps_seen >= self.counter.settings.retract_after_reps and (
                    not self._way_forgotten or self._reps_agree()):
                self._rep_way = self._tangent(self._way_sum, self._rest_up) or self._rep_way
                self._way_forgotten = self._way_forgotten and self._rep_way is None
            # Taken back here, it is judged again on the next turn round this loop.
            events.extend(self._rep_gone_against_way())

    def _drop_way_part(self, i: int) -> None:
        """A counted rep taken back takes its way with it."""
        w, f = self._way_sum, self._way_parts.pop(i)
        self._way_sum = (w[0] - f[0], w[1] - f[1], w[2] - f[2])

    def _rep_gone_against_way(self) -> list[Event]:
        """The first rep counted before the person's range was known that went against the
        way the other reps agree on (see `EngineSettings.way_agreement`): its far end lay
        behind the rest along their way, where the thigh pressed back is no excursion. A leg
        settled or twisted the other way before the set counts so at the floor, and stays a
        rep of its size among small reps."""
        counter, parts = self.counter, self._way_parts
        if len(parts) != counter.reps or len(parts) <= counter.settings.retract_after_reps:
            return []           # (a rep taken back by the counter is still on its way here)
        units = [self._unit(p) for p in parts]
        x, y, z, n = self._units_summed(parts)
        for i, u in enumerate(units):
            if u is None or not counter.counted_before_range_known(i):
                continue
            ox, oy, oz = x - u[0], y - u[1], z - u[2]     # the others
            others = math.sqrt(ox * ox + oy * oy + oz * oz)
            if (u[0] * ox + u[1] * oy + u[2] * oz < -self._past_square * others
                    and others >= self.settings.way_agreement * (n - 1)):
                return [counter.retract_rep(i, counter.t_s)]
        return []

    @staticmethod
    def _unit(v) -> tuple[float, float, float] | None:
        size = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
        return None if size < 1e-9 else (v[0] / size, v[1] / size, v[2] / size)

    def _reps_found_back(self, t_s: float, angle_deg: float, up: tuple[float, float, float],
                         events: list[Event]) -> list[Event]:
        """Follow movements back past the rest, against the reps' way, between reps; after
        `EngineSettings.trips_back_to_forget` in a row as big as the reps, forget the way, take
        back the reps it came from and count the movements instead."""
        counter = self.counter
        if (events and any(ev.kind == "rep_counted" for ev in events) or counter.phase != counter.LOW
                or self._rep_way is None or not self._way_in_doubt()):
            self._trip_back = None
            self._trips_back.clear()
            return []
        threshold = counter.rep_threshold_deg
        back_deg = self._rest_offset_deg - angle_deg
        trip = self._trip_back
        if trip is not None and trip.rest_offset_deg != self._rest_offset_deg:
            trip = self._trip_back = None           # it stayed back there: a new rest
        if trip is None:
            if back_deg > 0.5 * threshold:
                self._trip_back = _TripBack(t_s, self._rest_offset_deg, back_deg, up)
            return []
        if back_deg > trip.deepest_deg:
            trip.deepest_deg, trip.far_up = back_deg, up
        if back_deg >= 0.5 * threshold:
            return []
        self._trip_back = None
        if trip.deepest_deg < counter.typical_excursion_deg:
            return []                   # (the thigh pressed back is smaller than the reps)
        trip.end_s = t_s
        self._trips_back.append(trip)
        if len(self._trips_back) < self.settings.trips_back_to_forget:
            return []
        self._rep_way, self._way_forgotten = None, True
        found = self._reps_gone_against_trips()
        for back in self._trips_back:
            counted = [counter.count_found_rep(back.deepest_deg, back.end_s - back.start_s, back.end_s)]
            self._far_up = back.far_up
            self._learn_way(counted)    # (what it takes back, it adds to counted)
            found += counted
        self._far_up, self._far_cos = None, 2.0
        self._trips_back.clear()
        return found

    def _reps_gone_against_trips(self) -> list[Event]:
        """Take back the reps under review that went against the movements found back: the
        wrong way was learnt from them."""
        x, y, z, _ = self._units_summed(
            self._across(self._unit(back.far_up), self._rest_up) for back in self._trips_back)
        counter, taken = self.counter, []
        for i in reversed(range(len(self._way_parts))):
            p = self._way_parts[i]
            if (counter.counted_before_range_known(i) and p[0] * x + p[1] * y + p[2] * z
                    < -self._past_square * math.sqrt((x * x + y * y + z * z) * (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]))):
                taken.append(counter.retract_rep(i, counter.t_s))
                self._drop_way_part(i)
        return taken

    def _way_in_doubt(self) -> bool:
        """Whether the way may have been learnt from movements before the set: a rep counted
        before the person's range was known is still under review."""
        counter = self.counter
        return (counter.reps <= counter.settings.floor_reps_weighed_until
                and any(counter.counted_before_range_known(i) for i in range(counter.reps)))

    def _reps_agree(self) -> bool:
        """Whether the counted reps go one way (see `EngineSettings.way_agreement`)."""
        x, y, z, n = self._units_summed(self._way_parts)
        return n > 0 and math.sqrt(x * x + y * y + z * z) >= self.settings.way_agreement * n

    @classmethod
    def _units_summed(cls, vectors) -> tuple[float, float, float, int]:
        """The sum of the unit directions of ``vectors`` (none for a zero one), and how many."""
        x = y = z = 0.0
        n = 0
        for v in vectors:
            u = cls._unit(v)
            if u is not None:
                x, y, z, n = x + u[0], y + u[1], z + u[2], n + 1
        return x, y, z, n

    def _way_is_off(self, up: tuple[float, float, float], along_deg: float) -> bool:
        """Whether "up" has turned far beyond the typical rep square to the reps' way, from the
        rest the latest rep was counted from (not the latest long rest: a movement that is no
        excursion the reps' way reads as a rest, and the rest follows it), but not a rep
        threshold along the way (see `EngineSettings.way_off_factor`)."""
        counter = self.counter
        if along_deg - self._rest_offset_deg >= counter.rep_threshold_deg:
            return False
        r, w = self._counted_rest_up, self._rep_way
        # Square to the way and to the rest: not the way back past the rest, which the way is
        # there to ignore (legs lowered flat after pelvic tilts from hook-lying).
        ax, ay, az = r[1] * w[2] - r[2] * w[1], r[2] * w[0] - r[0] * w[2], r[0] * w[1] - r[1] * w[0]
        s = abs(up[0] * ax + up[1] * ay + up[2] * az) / math.sqrt(
            (up[0] * up[0] + up[1] * up[1] + up[2] * up[2]) * (ax * ax + ay * ay + az * az))
        across_deg = math.degrees(math.asin(min(1.0, s)))
        return across_deg > self.settings.way_off_factor * counter.typical_excursion_deg

    def _tilt_deg(self, up: tuple[float, float, float]) -> float:
        """For exercises of unknown plane: how far "up" has turned from the latest long rest,
        added to the angle at that rest so the measure stays continuous. Any way counts until
        the reps have shown their way; from then on only the turn that way, so that the thigh
        pressed back past the rest or the leg rolling where it lies is no excursion."""
        n = math.sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2])
        r = self._rest_up
        c = (up[0] * r[0] + up[1] * r[1] + up[2] * r[2]) / n
        w = self._rep_way
        if w is not None:
            along = (up[0] * w[0] + up[1] * w[1] + up[2] * w[2]) / n
            return self._rest_offset_deg + math.degrees(math.atan2(along, c))
        return self._rest_offset_deg + math.degrees(math.acos(max(-1.0, min(1.0, c))))
