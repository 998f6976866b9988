"""Reps and holds from the thigh's inclination: a two-threshold (hysteresis) counter.

A rep is an excursion from a resting pose to a far end and back. The counter works on
``y = polarity * angle`` so that every rep is a rise and a fall:

* LOW: it follows the lowest point reached (the resting pose, wherever the person has drifted
  to). A rise of at least the rep threshold above it starts a rep.
* HIGH: it follows the highest point (the far end). A fall of at least the rep threshold from it
  counts the rep, and the counter is LOW again.

Nothing here is an absolute threshold tuned to one person: the rep threshold starts at half the
exercise's smallest documented excursion and then follows this person's own reps (half their
typical excursion), so a stiff back's 20-degree heel slide counts and a half-rep abandoned at a
third of the usual range does not. The other leg rocking this thigh a few degrees is below it;
a knock is shorter than any rep; a move into the exercise's documented start pose that settles
there starts afresh from it (and, where a rep may go either way, learns the way from the first
rep after it); a far end held much longer than any hold is a new resting pose, not a rep.

A hold starts when the thigh settles at the far end and ends when it starts back. The smoothed
speed falling under a tenth of the movement's peak says the thigh has settled; the hold itself
is timed from the angle: from when the thigh came within a two-hundredth of the excursion of
the level it holds to when it last was there, moved back by the smoothing filter's delay. Read
from position, the timing hardly depends on how a person's speed eases off (minimum-jerk,
cosine-like, or steady with short ramps), which a speed threshold cannot see past. After a quick
movement the smoothing's tail makes it late, so the older speed-threshold reading (which assumes
a minimum-jerk ending) bounds it: the earlier of the two starts a hold, the later ends it.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from signal_processing.events import Event, Hold
from signal_processing.exercises import Exercise


@dataclass(frozen=True)
class LostGap:
    """The latest long gap of lost samples, as the counter needs it."""

    last_seen_s: float      # the last sample before it
    seen_again_s: float     # the first sample after it
    retaken_s: float        # when the angle had been taken afresh after it (from readings till then)
    moved_deg: float        # how far the angle had moved then since it was last seen
    last_seen_dps: float    # how fast the angle was changing when last seen before it
    seen_again_dps: float   # how fast the sensor was turning as it was seen again


@dataclass
class _Dip:
    """Where the thigh settled beyond every rest it lay at, not yet known to be a rest."""

    level_deg: float
    last_s: float           # when the thigh was last settled there
    out_deg: float = 0.0    # how far out it has gone since, the reps' way


@dataclass(frozen=True)
class _HomePause:
    """Where the thigh first settled after a rep (its home), while that may yet prove a pause
    on the way there."""

    rests_lo_deg: float     # the rests lain at before it
    rests_hi_deg: float
    level_deg: float
    way: int                # the way of the rep it came back from


@dataclass
class _Pull:
    """Where a pull on out from the far end would set out from (see
    `CounterSettings.pull_window_s`), and the pull under way, if one is."""

    from_deg: float
    from_s: float
    furthest_deg: float             # the furthest out the thigh had been by then
    slowest_dps: float = math.inf   # the slowest it has gone lately
    peak_dps: float | None = None   # a pull under way: its peak outward speed so far

    def set_out(self, t_s: float, out_deg: float, furthest_deg: float, slowest_dps: float) -> None:
        """A later moment to set out from (the thigh slow again)."""
        self.from_deg, self.from_s = out_deg, t_s
        self.furthest_deg, self.slowest_dps = furthest_deg, slowest_dps


@dataclass(frozen=True)
class CounterSettings:
    """Tunables of the rep/hold counter; units in the names."""

    #: A rep must reach this fraction of the exercise's smallest documented excursion...
    first_rep_fraction: float = 0.5
    #: ...and, once the person has done some, this fraction of their typical excursion.
    typical_rep_fraction: float = 0.5
    #: How many recent reps make "typical".
    typical_reps: int = 5
    #: A rep is done once the thigh has come back this fraction of the way to where it left.
    return_fraction: float = 0.5
    #: From this many reps counted until `typical_reps` stand, any under `abandoned_fraction` of
    #: the usual excursion (their median) was a movement abandoned before the range was known:
    #: it is taken back.
    retract_after_reps: int = 3
    abandoned_fraction: float = 0.35
    #: A rep counted while the rep threshold was under twice the exercise's floor (nothing known
    #: yet of this person's range but reps of the floor's order) is weighed so, against the
    #: median of the latest `typical_reps`, until this many reps have been counted: three or
    #: four excursions of an undocumented exercise's 3-degree floor can be a wiggle to and fro
    #: before the set, and they are still the median at the fifth count.
    floor_reps_weighed_until: int = 10
    #: Until then, two movements out and home in a row, each short of the rep threshold but
    #: beyond `abandoned_fraction` of the usual excursion, and the smaller at least this
    #: fraction of the larger, are reps (see `_short_reps_home`).
    short_reps_alike_fraction: float = 0.7
    #: Shortest rep: a knock is quicker than this...
    min_rep_s: float = 0.6
    #: ...and once the person has done a few, so is anything under this fraction of their pace
    #: (but for a rep held at its far end: see `_step_high`).
    typical_duration_fraction: float = 0.45
    #: The pace rule spares a rep further out than this: a shift lifts the thigh a few degrees.
    shift_max_deg: float = 10.0
    #: Window over which the thigh must stay within the still band to count as still.
    still_window_s: float = 0.6
    #: The still band: this fraction of the rep threshold, but never below `still_floor_deg`.
    still_fraction: float = 0.25
    still_floor_deg: float = 0.3
    #: ... and the band of "settled in a pose", allowing for sway.
    settled_floor_deg: float = 1.0
    #: Still at the bottom this long between reps is a long rest.
    long_rest_s: float = 2.0
    #: Settled this long between reps: that level is the resting pose...
    rest_settle_s: float = 1.0
    #: ...unless the angle crept steadily over that time by more than this fraction of the
    #: settled band: sway goes back and forth, while a slow tilt on its way out (3 degrees over
    #: 5 s) stays inside the band for a second at a time, and a rest taken from it was left
    #: behind before the tilt got a rep threshold beyond it...
    rest_creep_fraction: float = 0.5
    #: ...and is still creeping: over the latest half of that time by more than this fraction.
    #: A thigh that rebounded a few degrees as it came down fast, then lay still, has settled.
    rest_creep_recent_fraction: float = 0.2
    #: ...and a rep must go this fraction of the rep threshold beyond it, the exercise's way.
    beyond_rest_fraction: float = 0.75
    #: Settled below every rest the thigh has lain at (against the reps' way, by less than a
    #: rep), it has dipped, and coming back up is no rep, until it has lain there this long,
    #: come back there, or a rep has gone from there (see `_settled_at_rest`): the other leg
    #: rocking this thigh the other way turns round so slowly (a 4-degree rock over 4 s each way
    #: stays inside the settled band for 2 s) that the bottom looks like a rest, and the way
    #: back like a tilt.
    dip_confirm_s: float = 4.0
    #: A pause shorter than this at the far end is not a hold.
    min_hold_s: float = 1.0
    #: A hold has ended once the thigh is this fraction of the excursion on its way back.
    hold_end_fraction: float = 0.25
    #: The hold band below the far end: fraction of the excursion, at least `hold_floor_deg`.
    hold_fraction: float = 0.1
    hold_floor_deg: float = 1.5
    #: Moving on further out than this (and than the hold band) at a movement's pace, the
    #: thigh had not reached the far end: a person holding a knee in re-grips by a few degrees.
    regrip_deg: float = 5.0
    #: ...or further than that within this long of its latest slow moment, however slowly at
    #: any one moment: a knee lifted by the leg, then drawn in by the hands more slowly than it
    #: rose. A knee creeping in over a hold (4 degrees over 4 s or more) is not drawn in. The
    #: pull has ended once its speed is under `speed_fraction` of its own peak.
    pull_window_s: float = 2.5
    #: Fraction of the movement's peak speed that marks its start and end.
    speed_fraction: float = 0.1
    #: The thigh has arrived at the far end (or left it) once within this fraction of the
    #: excursion of the level it holds...
    arrival_fraction: float = 0.005
    #: ...plus this many times amplitude / peak speed: the time the last of a smooth movement
    #: takes. It is 0.15 for minimum-jerk, 0.07 for a cosine and 0.04 for steady speed with
    #: 15 % ramps; this value splits the difference, so that no profile errs by more than
    #: about 0.035 of the movement's duration at either end.
    arrival_shift: float = 0.085
    #: A thigh last seen on its way to the far end before a gap arrived in it this many times
    #: (distance left / speed then) later, and one seen on its way back after a gap left this
    #: many times (distance come / speed then) before: the end of a movement, or its start,
    #: takes 3 of that for a minimum-jerk movement, 2 for a cosine and 1 for a steady one;
    #: this splits the difference.
    gap_ease_factor: float = 2.0
    #: Speeds below this are sway, not movement.
    speed_floor_dps: float = 1.0
    #: At the far end this long, in an exercise without holds: a new resting pose. Longer than
    #: the 5 to 10 s many programmes ask a pelvic tilt to be held (at 10 s, a set of tilts each
    #: held 12 s counted none).
    rebase_no_hold_s: float = 30.0
    #: ... this many hold targets long (or `rebase_hold_s` without a target) where holds count:
    #: a person in pain counting slowly, or who forgets the timer, holds a knee to the chest
    #: for a minute (at 2.5 targets, 50 s, every rep of a set held 55 s was lost), and there
    #: is no other pose up there to rest in.
    rebase_hold_targets: float = 5.0
    rebase_hold_s: float = 30.0
    #: Where no start pose is documented: gone out from a pose at the far end and come back to
    #: settle there this many times, the thigh made reps from it, and it was the start pose.
    #: A person holding a knee to the chest may ease off and pull it back in once or twice.
    start_pose_trips: int = 3
    #: Margin around the documented start pose (and a documented resting pose on the way).
    start_pose_margin_deg: float = 12.0
    #: Settled this long inside the start pose: the set starts from here.
    start_pose_settle_s: float = 1.5


def minimum_jerk_tail(speed_fraction: float) -> float:
    """Time left in a minimum-jerk movement once its speed has fallen to ``speed_fraction`` of
    the peak, as a multiple of amplitude / peak speed.

    Speed of a minimum-jerk movement of duration T is 30 s^2 (1 - s)^2 A / T (s = t / T), so its
    peak is 1.875 A / T and it is at fraction r of the peak where 16 s^2 (1 - s)^2 = r.
    """
    q = math.sqrt(speed_fraction) / 4.0
    s = (1.0 - math.sqrt(1.0 - 4.0 * q)) / 2.0
    return s * 1.875


class RepCounter:
    """The counter; ``step(t_s, angle_deg, speed_dps)`` on a steady (~50 Hz) grid."""

    LOW, HIGH = "low", "high"
    #: Grid steps of the trail kept during a rep: 20 s at 50 Hz, longer than any movement.
    _TRAIL_STEPS = 1000
    #: Grid steps kept while a pose at the far end might turn out to be the start pose: 60 s at
    #: 50 Hz, longer than the far end is held before it is a new resting pose anyway.
    _POSE_STEPS = 3000

    def __init__(self, exercise: Exercise, settings: CounterSettings | None = None,
                 delay_s: float = 0.0) -> None:
        self.exercise = exercise
        self.settings = settings or CounterSettings()
        #: Delay of the smoothing upstream: event times are moved back by it.
        self.delay_s = delay_s
        self._tail = minimum_jerk_tail(self.settings.speed_fraction)
        self.reset()

    def reset(self) -> None:
        self.phase = self.LOW
        self.reps = 0
        #: Set by the engine after a long gap of lost samples; holds beside it are timed by it.
        self.gap: LostGap | None = None
        self.holds: list[Hold] = []
        self.amplitudes: deque[float] = deque(maxlen=self.settings.typical_reps)
        self.durations: deque[float] = deque(maxlen=self.settings.typical_reps)
        self._last_peak_deg: float | None = None
        self._counted: list[float] = []
        #: Whether each counted rep was counted while the person's range was still of the
        #: floor's order (the threshold under twice the floor; see `floor_reps_weighed_until`).
        self._range_unknown: list[bool] = []
        self._holds_at_count: list[int] = []
        self._last_rise_deg = 0.0
        self._last_direction = 1
        self.polarity = self.exercise.direction
        self.in_start_pose = self.exercise.start_pose_deg is None
        self._window_lows: deque[tuple[float, float]] = deque()
        self._window_highs: deque[tuple[float, float]] = deque()
        self._window_start_s: float | None = None
        self.t_s = 0.0
        self.angle_deg = 0.0
        self._started = False
        self.rest_deg = 0.0
        #: The lowest and highest rests the thigh has lain at for sure (see `_settled_at_rest`):
        #: a rep must go beyond the nearer, not only beyond a dip past it.
        self._rests_lo_deg = self._rests_hi_deg = 0.0
        self._settled_since_rep = True    # (the first settle after a rep is its home)
        self._home_pause: _HomePause | None = None
        self._dip: _Dip | None = None
        self._threshold_key: tuple | None = None
        self._threshold_deg = 0.0
        self._typical_deg = math.inf
        self._still_since_s: float | None = None
        self._settled_lo = self._settled_hi = 0.0
        #: Still at the bottom, between reps, for a while: where "tilt" re-takes its rest.
        self.long_rest = False
        self._rest_since_s: float | None = None
        #: The angle over the latest `rest_settle_s`, as (t_s, angle_deg): how far it crept.
        self._recent: deque[tuple[float, float]] = deque()
        #: True for the step in which the set was counted again from a start pose it found.
        self.recounted = False
        self._recounting = False
        #: The steps (t_s, angle_deg, speed_dps) since the thigh first settled at the far end,
        #: to be counted again from that pose (see `_far_pose_is_start_pose`).
        self._pose_steps: deque[tuple[float, float, float]] = deque(maxlen=self._POSE_STEPS)
        #: Movements out and home short of the rep threshold while the usual range is not yet
        #: known, as (left_s, home_s, out_deg) (see `_short_reps_home`).
        self._short_reps: list[tuple[float, float, float]] = []
        self._low_reset(0.0, 0.0)

    def _low_reset(self, t_s: float, angle_deg: float) -> None:
        self.phase = self.LOW
        self.low_min_deg = self.low_max_deg = angle_deg   # extremes of the angle while LOW
        self.valley_s = self.valley_max_s = t_s
        self.hold_start_s: float | None = None
        self.hold_level = 0.0
        self.peak = 0.0
        self.out_start_s = t_s
        self.peak_speed_dps = 0.0
        self.fast_since_s: float | None = None
        self.settled_s: float | None = None
        self._settled_out_deg = 0.0     # how far out it was when it settled
        #: Since when the thigh has been moving on from a hold under way, at a movement's pace.
        self._moving_on_s: float | None = None
        self._moved_on_settled_s: float | None = None   # ...and settled beyond it since when,
        self._moved_on_out_deg = 0.0                    # ...this far out
        self._moving_on_from_deg = 0.0                  # ...from this far out,
        self._moving_on_deg = 0.0                       # ...by more than this
        #: A pull on out at the far end: None while the movement out is still under way.
        self._pull: _Pull | None = None
        #: The first movement back at a movement's pace during a hold, as (when it began, the
        #: level held before it, since when it has been still: None while it moves), until the
        #: thigh is back at that level or has stayed still a hold's length where it stopped
        #: (see `_end_hold`).
        self._back: tuple[float, float, float | None] | None = None
        #: (grid time, how far out) since the rep started: where holds begin and end is read
        #: back from it.
        self._trail: deque[tuple[float, float]] = deque(maxlen=self._TRAIL_STEPS)
        #: How far out the thigh has gone, the exercise's way, since it last left the rest,
        #: and that rest (a pause out there is taken for a rest while no rep has started).
        self._out_deg = 0.0
        self._left_s: float | None = None
        self._home_deg = 0.0
        self._forget_far_pose()

    def _forget_far_pose(self) -> None:
        """No pose at the far end in view as a start pose (see `_far_pose_is_start_pose`)."""
        #: Where and since when the thigh first settled out there: the rest, if it was one.
        self._pose_since_s: float | None = None
        self._pose_first_deg = 0.0
        #: The level it settles at out there, whether it is away from it now, and how many
        #: times it has gone away and come back to settle there.
        self._pose_deg: float | None = None
        self._pose_away = False
        self._pose_trips = 0
        self._pose_steps.clear()

    # -- thresholds that follow the person ---------------------------------------------------
    @property
    def rep_threshold_deg(self) -> float:
        """Half the exercise's smallest excursion, then half this person's typical one."""
        self._follow_reps()
        return self._threshold_deg

    @property
    def typical_excursion_deg(self) -> float:
        """The median size of this person's latest reps; infinite before the first."""
        self._follow_reps()
        return self._typical_deg

    def _follow_reps(self) -> None:
        """Bring the rep threshold and the typical excursion up to date with the reps."""
        key = tuple(self.amplitudes)
        if key != self._threshold_key:
            s = self.settings
            low = self._floor_deg()
            typical = sorted(key)[(len(key) - 1) // 2] if key else math.inf
            if key:
                low = max(low, typical * s.typical_rep_fraction)
            self._threshold_key, self._threshold_deg, self._typical_deg = key, low, typical

    @property
    def hold_active(self) -> bool:
        return self.hold_start_s is not None

    def hold_elapsed_s(self) -> float:
        """How long the hold under way has lasted: never more than it will be found to have
        lasted when it ends, so that a hold shown done at its target is saved at it too."""
        if self.hold_start_s is None:
            return 0.0
        # A hold that ends is timed to no earlier than when the thigh last went faster than
        # the speed mark, less the movement's tail (see `_end_hold`): the timer runs to that.
        # Moving (maybe on the way back), it waits; sway that settles again lets it run on.
        moved_s = self.t_s if self.fast_since_s is None else self.fast_since_s
        return max(0.0, moved_s - self.delay_s - self._tail_s() - self.hold_start_s)

    def _in_documented_pose(self, pose: tuple[float, float] | None, angle_deg: float) -> bool:
        """Whether ``angle_deg`` lies in a pose the catalogue documents, with the margin."""
        m = self.settings.start_pose_margin_deg
        return pose is not None and pose[0] - m <= angle_deg <= pose[1] + m

    def _beyond_start_pose(self, angle_deg: float) -> bool:
        """Whether ``angle_deg`` lies further outside the documented start pose (with the
        margin) than the exercise's largest rep goes: no rep from the pose ends there."""
        pose = self.exercise.start_pose_deg
        if pose is None:
            return False
        reach = self.settings.start_pose_margin_deg + self.exercise.excursion_deg[1]
        return not pose[0] - reach <= angle_deg <= pose[1] + reach

    def _settled_band_deg(self) -> float:
        """How far a thigh settled in a pose may sway: a fraction of the rep threshold."""
        s = self.settings
        return max(s.settled_floor_deg, s.still_fraction * self.rep_threshold_deg)

    def _hold_band_deg(self, excursion: float) -> float:
        s = self.settings
        return max(s.hold_floor_deg, s.hold_fraction * excursion)

    # -- the step ------------------------------------------------------------------------------
    def step(self, t_s: float, angle_deg: float, speed_dps: float) -> list[Event]:
        s = self.settings
        self.t_s, self.angle_deg = t_s, angle_deg
        self.recounted = False
        recent = self._recent
        recent.append((t_s, angle_deg))
        while len(recent) > 1 and recent[1][0] <= t_s - s.rest_settle_s:
            recent.popleft()
        if not self._started:
            self._started = True
            self._low_reset(t_s, angle_deg)
            self._new_rest(angle_deg)      # the reference pose is the first resting pose
        # Spread of the angle over the still window, from running min and max queues.
        lows, highs = self._window_lows, self._window_highs
        while lows and lows[-1][1] >= angle_deg:
            lows.pop()
        lows.append((t_s, angle_deg))
        while highs and highs[-1][1] <= angle_deg:
            highs.pop()
        highs.append((t_s, angle_deg))
        oldest_s = t_s - s.still_window_s
        while lows[0][0] < oldest_s:
            lows.popleft()
        while highs[0][0] < oldest_s:
            highs.popleft()
        spread = highs[0][1] - lows[0][1]
        if self._window_start_s is None:
            self._window_start_s = t_s
        full = t_s - self._window_start_s >= 0.9 * s.still_window_s
        still = full and spread <= max(s.still_floor_deg, s.still_fraction * self.rep_threshold_deg)
        # Settled: still but for sway, the most a person lying in a pose ever is.
        band = self._settled_band_deg()
        settled = full and spread <= band
        if still and self.phase == self.LOW and angle_deg - self.low_min_deg <= spread:
            if self._rest_since_s is None:
                self._rest_since_s = t_s
        else:
            self._rest_since_s = None
        self.long_rest = (self._rest_since_s is not None
                          and t_s - self._rest_since_s >= s.long_rest_s)

        # Settled in a pose means staying in the band the whole time, not drifting through it a
        # window at a time (a slow pelvic tilt moves under a degree in any one window).
        if settled and self._still_since_s is not None:
            self._settled_lo = min(self._settled_lo, angle_deg)
            self._settled_hi = max(self._settled_hi, angle_deg)
            if self._settled_hi - self._settled_lo > band:
                self._still_since_s = None
        if not settled:
            self._still_since_s = None
        elif self._still_since_s is None:
            self._still_since_s = t_s - s.still_window_s
            self._settled_lo, self._settled_hi = lows[0][1], highs[0][1]
        events: list[Event] = []
        if self.phase == self.LOW:
            self._forget_pause_gone_past(angle_deg)
            level = self._settled_level_deg(t_s, angle_deg, band, highs, lows)
            if level is not None:
                if self._out_deg > band:     # (it only grows once the thigh has left home)
                    events += self._short_reps_home(level, band)
                events += self._settled_at_rest(t_s, level, band)
        # Into the start pose (hook-lying, knees to chest): the set starts from here. Out of it,
        # further than any rep goes from it (legs straightened for a long rest mid-set): the
        # set starts again when the thigh is back in the pose.
        entering = (not self.in_start_pose
                    and self._in_documented_pose(self.exercise.start_pose_deg, angle_deg))
        leaving = self.in_start_pose and self._beyond_start_pose(angle_deg)
        if (entering or leaving) and settled and t_s - self._still_since_s >= s.start_pose_settle_s:
            if self.hold_active:
                events.append(Event("hold_cancelled", t_s - self.delay_s))
            self.in_start_pose = entering
            self.polarity = self.exercise.direction
            self._low_reset(t_s, angle_deg)
            self._new_rest(angle_deg)
            return events
        if self.phase == self.LOW:
            return events + self._step_low(t_s, angle_deg)
        if (self.exercise.start_pose_from_reps and not self._recounting
                and self._far_pose_is_start_pose(t_s, angle_deg, speed_dps, band, highs, lows)):
            return events + self._count_again_from_pose()
        return events + self._step_high(t_s, angle_deg, speed_dps, settled)

    def _far_pose_is_start_pose(self, t_s: float, angle_deg: float, speed_dps: float, band: float,
                                highs: deque, lows: deque) -> bool:
        """Whether the first movement out, not yet a rep, was the person moving into their own
        start pose (an exercise that documents none): the thigh settled at the far end, then
        went out from there by more than a hold sways and came back to settle there again,
        `start_pose_trips` times. Follows the pose at the far end in any case: held there far
        longer than any hold, it is counted from (see `_step_high`)."""
        s = self.settings
        self._pose_steps.append((t_s, angle_deg, speed_dps))
        if self._pose_since_s is None:
            # Nothing settled yet: keep only what a settling that starts now would reach back to.
            while self._pose_steps[0][0] < t_s - 2.0 * s.still_window_s:
                self._pose_steps.popleft()
        level = self._settled_level_deg(t_s, angle_deg, band, highs, lows)
        if level is not None:
            if self._pose_since_s is None:
                self._pose_since_s, self._pose_first_deg = self._still_since_s, level
                while self._pose_steps[0][0] < self._pose_since_s:
                    self._pose_steps.popleft()
            if self._pose_deg is None or (not self._pose_away and abs(level - self._pose_deg) > band):
                self._pose_deg, self._pose_trips = level, 0
            elif self._pose_away and abs(level - self._pose_deg) <= band:
                self._pose_away = False
                self._pose_trips += 1
        if self._pose_deg is None:
            return False
        if not self._pose_away and abs(angle_deg - self._pose_deg) >= self._far_pose_trip_deg(band):
            self._pose_away = True
        return not self.reps and self._pose_trips >= s.start_pose_trips and self._pose_recountable()

    def _pose_recountable(self) -> bool:
        """Whether every step since the thigh settled in the pose at the far end is at hand."""
        return (self.exercise.start_pose_from_reps and not self._recounting and self._pose_since_s is not None
                and self._pose_steps[0][0] <= self._pose_since_s + 0.1)

    def _far_pose_trip_deg(self, band: float) -> float:
        """How far from a pose at the far end a movement must go to be a rep from it: a rep
        threshold, well beyond sway, and beyond what a hold there may sway (a person holding a
        knee to the chest eases off and pulls it back in)."""
        return max(self.rep_threshold_deg, 2.0 * band, self._hold_band_deg(self.peak))

    def _count_again_from_pose(self) -> list[Event]:
        """The movement out was into the start pose, not a rep: drop it (and its hold), and
        count the steps since the thigh settled in that pose again, that pose now the rest."""
        events: list[Event] = []
        if self.hold_active:
            events.append(Event("hold_cancelled", self.t_s - self.delay_s))
        steps, pose_deg = list(self._pose_steps), self._pose_first_deg
        self._forget_recent_angles()
        self._low_reset(steps[0][0], steps[0][1])
        self._new_rest(pose_deg)
        self.polarity = self.exercise.direction     # the way the move into the pose went is no rep's
        self._recounting = True
        try:
            for t_s, angle_deg, speed_dps in steps:
                events += self.step(t_s, angle_deg, speed_dps)
        finally:
            self._recounting = False
        self.recounted = True
        return events

    def _forget_recent_angles(self) -> None:
        """Start the still windows and the settling afresh: the angles before were measured from
        elsewhere."""
        self._window_lows.clear()
        self._window_highs.clear()
        self._window_start_s = self._still_since_s = self._rest_since_s = None
        self._recent.clear()

    def _new_rest(self, level_deg: float) -> None:
        """The thigh rests at ``level_deg`` from now on, for sure."""
        self.rest_deg = self._rests_lo_deg = self._rests_hi_deg = level_deg
        self._dip = None
        self._home_pause = None

    def _settled_at_rest(self, t_s: float, level_deg: float, band: float) -> list[Event]:
        """Settled between reps at ``level_deg``: the rest. Beyond every rest lain at so far by
        more than the band (but less than a rep), it is a dip, or a pause out, and not one of
        those rests until the thigh has lain there `dip_confirm_s`, or come back to it after
        leaving it with no rest at the old level between (the other leg rocks this thigh from
        its rest and back; a person who settled lower tilts from there and back): then a
        movement from it and back as big as a rep was one. Within the band, the rests drift
        there once the thigh has lain there a long rest. A rest the thigh first settles at home
        from a rep is one, wherever it is (unless it goes on home past it: see
        `_forget_pause_gone_past`): real sets drift, and come home past where they lay."""
        self.rest_deg = level_deg
        home = not self._settled_since_rep
        self._settled_since_rep = True
        lo, hi = self._rests_lo_deg, self._rests_hi_deg
        rep_deg = self.typical_excursion_deg
        dip = lo - rep_deg < level_deg < lo - band or hi + band < level_deg < hi + rep_deg
        events: list[Event] = []
        if dip and not home and t_s - self._still_since_s < self.settings.dip_confirm_s:
            d = self._dip
            if d is None or abs(level_deg - d.level_deg) > band:
                self._dip = _Dip(level_deg, t_s)
                return events
            duration_s = self._still_since_s - d.last_s
            if d.out_deg < self.rep_threshold_deg or duration_s < self._min_rep_s():
                # Still there, or back from no more than sway (a slow turn drifts through the
                # band a window at a time).
                d.last_s, d.out_deg = t_s, 0.0
                return events
            # Back at the dip from a movement out as big as a rep: it is where the thigh rests
            # now, and the movement was a rep from it.
            if duration_s < self.settings.rebase_no_hold_s:
                events.append(self._count_rep(d.out_deg, duration_s, self._still_since_s - self.delay_s))
                self._settled_since_rep = True
                self._last_peak_deg = None
        drifted = not dip and (level_deg < lo or level_deg > hi)
        if drifted and not home and t_s - self._still_since_s < self.settings.long_rest_s:
            # Drifted there only once lain there a long rest: the turn of a slow rock lingers
            # in the band for a second, and rocks a little bigger each time carried the rests
            # up rock by rock until the way back from one was a tilt.
            return events
        if home:
            self._home_pause = _HomePause(lo, hi, level_deg, self._last_direction)
        self._lain_at(level_deg)
        return events

    def _lain_at(self, level_deg: float) -> None:
        """The thigh has lain at ``level_deg`` for sure: the rests lain at reach it, and no
        dip is in question."""
        self._rests_lo_deg = min(self._rests_lo_deg, level_deg)
        self._rests_hi_deg = max(self._rests_hi_deg, level_deg)
        self._dip = None

    def _forget_pause_gone_past(self, angle_deg: float) -> None:
        """The thigh has gone on home past where it first settled from the rep, by more than
        the band: that was a pause on the way, and no rest, and the rests lain at are as they
        were before it (a heel slide eased back in two goes). Known as the thigh passes, not
        once it settles there: a brisk person is out on the next rep before a rest settles,
        and that rep is out from the rests before the pause, not from the pause."""
        pause = self._home_pause
        if pause is not None and (pause.level_deg - angle_deg) * pause.way > self._settled_band_deg():
            self._rests_lo_deg, self._rests_hi_deg = pause.rests_lo_deg, pause.rests_hi_deg
            self._home_pause = None

    def _rest_beyond_dip_deg(self, direction: int) -> float:
        """The rest a rep the ``direction`` way must go beyond: where the thigh lies, or, if it
        has dipped below every rest it lay at, the nearest of those."""
        rests_deg = self._rests_lo_deg if direction > 0 else self._rests_hi_deg
        return max(self._rest_out_from_deg(direction) * direction, rests_deg * direction) * direction

    def _rest_out_from_deg(self, direction: int) -> float:
        """Where a rep the ``direction`` way goes out from: where the thigh lies, unless it
        paused out that way beyond every rest it lay at by more than the band, and has not
        lain there yet (see `_settled_at_rest`): a hesitation on the way out of a rep, which
        is measured from the nearest of those rests."""
        rests_deg = self._rests_hi_deg if direction > 0 else self._rests_lo_deg
        if (self.rest_deg - rests_deg) * direction > self._settled_band_deg():
            return rests_deg
        return self.rest_deg

    def _settled_level_deg(self, t_s: float, angle_deg: float, band: float, highs: deque,
                           lows: deque) -> float | None:
        """Where the thigh has stayed settled for `rest_settle_s`, not creeping across the band
        as it goes (see `_creeping`); None while it has not."""
        if (self._still_since_s is None or t_s - self._still_since_s < self.settings.rest_settle_s
                or self._creeping(angle_deg, band)):
            return None
        return (highs[0][1] + lows[0][1]) / 2

    def _creeping(self, angle_deg: float, band: float) -> bool:
        """Whether the angle is moving steadily one way, if slowly: over the latest
        `rest_settle_s` by more than `rest_creep_fraction` of ``band``, and over the latest half
        of it by more than `rest_creep_recent_fraction`."""
        s = self.settings
        recent = self._recent
        if abs(angle_deg - recent[0][1]) <= s.rest_creep_fraction * band:
            return False
        half_s = self.t_s - 0.5 * s.rest_settle_s
        middle = next(a for t, a in recent if t >= half_s)
        return abs(angle_deg - middle) > s.rest_creep_recent_fraction * band

    def _step_low(self, t_s: float, angle_deg: float) -> list[Event]:
        s = self.settings
        threshold = self.rep_threshold_deg
        if self.polarity and 0 < len(self.amplitudes) < s.retract_after_reps:
            band = self._settled_band_deg()
            if self._out_deg <= band and (angle_deg - self.rest_deg) * self.polarity <= band:
                self._left_s, self._home_deg, self._out_deg = t_s, self.rest_deg, 0.0   # home
            if self._left_s is not None:    # (not on the way home from the last rep)
                self._out_deg = max(self._out_deg, (angle_deg - self._home_deg) * self.polarity)
        if self._dip is not None and self.polarity:
            self._dip.out_deg = max(self._dip.out_deg, (angle_deg - self._dip.level_deg) * self.polarity)
        self.low_min_deg = min(self.low_min_deg, angle_deg)
        self.low_max_deg = max(self.low_max_deg, angle_deg)
        # When the thigh last left the bottom (either way): where a rep's time starts.
        near = 0.2 * threshold
        if angle_deg - self.low_min_deg <= near:
            self.valley_s = t_s
        if self.low_max_deg - angle_deg <= near:
            self.valley_max_s = t_s
        if self._last_peak_deg is not None and self.amplitudes:
            # A rep's size is the smaller of its rise and its fall.
            fall = abs(self._last_peak_deg - (self.low_min_deg if self._last_direction > 0
                                              else self.low_max_deg))
            self.amplitudes[-1] = min(self._last_rise_deg, fall)
        rise_up = angle_deg - self.low_min_deg
        rise_down = self.low_max_deg - angle_deg
        if self.polarity == 0:
            if rise_up >= threshold:
                direction = 1
            elif rise_down >= threshold:
                direction = -1
            else:
                return []
            if self.in_start_pose:
                self.polarity = direction   # the first rep shows which way this person's go
        else:
            direction = self.polarity
            if (rise_up if direction > 0 else rise_down) < threshold:
                return []
            if (angle_deg - self._rest_beyond_dip_deg(direction)) * direction < s.beyond_rest_fraction * threshold:
                # Back up from below the resting pose (the other leg rocking this thigh the other
                # way, a shift and back), even one it settled in for a moment as it turned
                # round: not out from the rest, not a rep.
                return []
        self._last_peak_deg = None   # the last rep's fall is known now
        # Out from a dip and beyond the rest: it was a rest after all (but a pause out is not).
        rest_deg = self._rest_out_from_deg(direction)
        self._lain_at(rest_deg)
        self._home_pause = None
        valley_deg = self.low_min_deg if direction > 0 else self.low_max_deg
        if self.polarity != 0:
            # Out from the rest, not from a passing excursion the other way (a shift's bump):
            # a rep is measured from no further back than the settled band beyond the rest.
            band = self._settled_band_deg()
            valley_deg = (max(valley_deg, rest_deg - band) if direction > 0
                          else min(valley_deg, rest_deg + band))
        start_s = self.valley_s if direction > 0 else self.valley_max_s
        self._short_reps.clear()
        self._low_reset(t_s, angle_deg)
        self.phase = self.HIGH
        self.direction = direction
        self.valley_deg = valley_deg
        self.peak = (angle_deg - valley_deg) * direction
        self.out_start_s = start_s - self.delay_s
        return [Event("rep_started", self.out_start_s)]

    def _step_high(self, t_s: float, angle_deg: float, speed_dps: float, still: bool) -> list[Event]:
        s = self.settings
        events: list[Event] = []
        d = self.direction
        y = (angle_deg - self.valley_deg) * d        # how far out, always positive going out
        outward_dps = speed_dps * d
        threshold = self.rep_threshold_deg

        band = self._hold_band_deg(max(y, self.peak))
        # On the move, not swaying: an outward speed a movement has (the mark as it stood)...
        moving_on = outward_dps >= self._speed_mark_dps()
        # ...and further than a hold sways or a person holding a knee in re-grips.
        on_deg = max(band, s.regrip_deg)
        pulling = self._pulling(t_s, y, speed_dps)
        if y > self.peak:
            if self.hold_active and self._moving_on_s is None:
                if moving_on and y - self.hold_level > on_deg:
                    self._moving_on_s = self.fast_since_s or t_s
                    self._moving_on_from_deg, self._moving_on_deg = self.hold_level, on_deg
                elif pulling and self._pull.from_s - self.delay_s - self.hold_start_s <= s.pull_window_s:
                    # (Drawn on from where it paused; later in the hold, it re-grips.)
                    self._moving_on_s = self._pull.from_s
                    self._moving_on_from_deg, self._moving_on_deg = self._pull.from_deg, s.regrip_deg
            if not self.hold_active and self.settled_s is not None and (
                    y > self.peak + band or moving_on and y - self._settled_out_deg > on_deg
                    or pulling and y - self._settled_out_deg > s.regrip_deg):
                self.settled_s = None       # still on its way out
            self.peak = y
        if not self.hold_active and outward_dps > self.peak_speed_dps:
            self.peak_speed_dps = outward_dps
            self.settled_s = None
        mark = self._speed_mark_dps()
        if self._moving_on_s is not None:
            if not self.hold_active or y - self._moving_on_from_deg <= self._moving_on_deg:
                # A jolt as it started back (a strap near the knee), or it came back to the pause.
                self._moving_on_s = self._moved_on_settled_s = None
            elif self._moved_on_settled_s is None:
                if abs(speed_dps) < mark and not pulling:
                    self._moved_on_settled_s, self._moved_on_out_deg = t_s, y
            elif y - self._moved_on_out_deg > max(band / 2, s.hold_floor_deg):
                self._moved_on_settled_s = None     # not settled yet: still on its way (sway is)
            elif t_s - self._moved_on_settled_s >= s.min_hold_s:
                # The pause was not the far end: the thigh has moved on, at a movement's pace,
                # further than a hold sways or a re-grip takes it (a knee lifted, then pulled in by
                # the hands), and settled there as long as a hold takes to be confirmed. The hold
                # starts there. (Kept, it ran seconds long. Cancelled at a rep threshold however
                # slowly reached, a knee creeping in over a hold dropped the hold whole.)
                events.append(Event("hold_cancelled", t_s - self.delay_s))
                level = self.hold_level
                # Where it settled, not where it is now: a hand's slow pull on from there, under
                # way by now, is still a movement on (it started holds 2 s early).
                settled_out_deg = self._moved_on_out_deg
                rest_on_the_way = self._in_documented_pose(self.exercise.rest_on_the_way_deg,
                                                           self.valley_deg + d * level)
                if rest_on_the_way and y - level > max(threshold, band):
                    # It was a resting pose on the way (knee to chest from hook-lying): the rep is
                    # measured from it and must come back to it.
                    self.valley_deg += d * level
                    y -= level
                    settled_out_deg -= level
                    self.peak -= level
                    self._trail = deque(((t, out - level) for t, out in self._trail),
                                        maxlen=self._trail.maxlen)
                    self.out_start_s = self._moving_on_s - self.delay_s
                self.hold_start_s = None
                self._back = None
                self.settled_s, self._settled_out_deg = self._moved_on_settled_s, settled_out_deg
                self._moving_on_s = self._moved_on_settled_s = None
        if abs(speed_dps) < mark:
            self.fast_since_s = None
            if self.settled_s is None and self.peak_speed_dps > mark and not pulling:
                if self._pull is None:
                    self._pull = _Pull(y, t_s, max(self.peak, y))
                self.settled_s = t_s        # the movement out has ended: the far end
                self._settled_out_deg = y
        elif self.fast_since_s is None:
            self.fast_since_s = t_s
        back_deg = self.peak - y
        self._trail.append((t_s, y))
        if self.hold_active:
            if self._back is None:
                if self.fast_since_s is not None and speed_dps * d < 0:
                    self._back = (self.fast_since_s, self._held_before_deg(self.fast_since_s), None)
            elif self.fast_since_s is not None:
                if self._back[2] is not None:       # moving again: not still there after all
                    self._back = self._back[:2] + (None,)
            elif y >= self._back[1] - self._hold_band_deg(self.peak):
                self._back = None       # settled back where it was held: a re-grip
            elif self._back[2] is None:
                self._back = self._back[:2] + (t_s,)
            elif t_s - self._back[2] >= s.min_hold_s:
                # Still a hold's length where it stopped: the hold goes on there (a sag, or an
                # adjustment), and the lowering, when it comes, is its end (ended at the move,
                # a hold that sagged 2 degrees and went on 3.5 s there was 3.7 s short).
                self._back = None

        # Back down by a rep threshold and at least part of the way home: the rep is done. Until
        # the person's usual range is known, it is also done once the thigh has settled back
        # where it left from, though it fell less than a rep threshold: a first rep jolted at its
        # far end (a knock) can look twice its size and set the threshold beyond the next reps'
        # fall, and a bump at the rest can start the next from a little beyond it (1 of 8 tilts
        # counted). Once the range is known, a fall that short is a shift or a rock.
        settled_home = (still and t_s - self._still_since_s >= s.rest_settle_s
                        and abs(angle_deg - self.rest_deg) <= self._settled_band_deg()
                        and back_deg >= s.return_fraction * self.peak)
        home = settled_home and len(self.amplitudes) < s.retract_after_reps
        fell = back_deg >= max(threshold, s.return_fraction * self.peak)
        if settled_home and not (fell or home):
            # Settled back at the rest, having gone less than a rep threshold beyond it (it
            # started from a rock the other way): the rock is over, and no rep. Left waiting
            # for a fall it would never make, the next movement's first wobble counted it. (A
            # pause on the way out is no rest to measure from: a rep that paused part way out
            # and part way back settles there.)
            rest_deg = self._rest_out_from_deg(d)
            if (abs(angle_deg - rest_deg) <= self._settled_band_deg()
                    and (self.valley_deg + d * self.peak - rest_deg) * d < threshold):
                if self.hold_active:
                    events.append(Event("hold_cancelled", t_s - self.delay_s))
                self._low_reset(t_s, angle_deg)
                return events
        if fell or home:
            if self.hold_active:
                events.append(self._end_hold(t_s))
            # Home: the movement ended when the thigh settled (a knock is over quicker than a rep).
            back_s = t_s if fell else self._still_since_s
            back_at_s = back_s - self.delay_s
            if self._in_gap(back_s):
                # Seen back only across a gap, where the angle was taken afresh (no smoothing's
                # delay behind it yet): it was back by the first sample after the gap, and not
                # a delay before that.
                back_at_s = max(back_at_s, self.gap.seen_again_s)
            duration_s = back_at_s - self.out_start_s
            # A rep held at its far end is no knock or shift on the bed, however short the hold:
            # one let go early (in pain, say) takes a fraction of the person's usual time. Nor
            # is one too big for a shift: a heel slide done without the pause the last few had.
            held = bool(self.holds) and self.holds[-1].start_s >= self.out_start_s
            no_shift = held or self.peak > s.shift_max_deg
            if duration_s >= (s.min_rep_s if no_shift else self._min_rep_s()):
                # Its pace is the movement's, out and back, not the time it was held: a set of
                # held reps has quick unheld ones too.
                moving_s = duration_s - (self.holds[-1].duration_s if held else 0.0)
                events.append(self._count_rep(self.peak, moving_s, back_at_s))
                if self.polarity == 0:
                    # The first rep shows the way, wherever the set started (a pelvic-tilt set
                    # recorded from hook-lying never shows the move into it): the way back from
                    # a tilt is not a tilt the other way.
                    self.polarity = d
                self._last_peak_deg = self.valley_deg + d * self.peak
                self._last_rise_deg = self.peak
                self._last_direction = d
                events += self._retract_abandoned_early_reps(t_s)
            self._low_reset(t_s, angle_deg)
            return events

        if self.hold_active:
            # Sway at the far end is not the end of the hold; a quarter of the way back is, at
            # a movement's pace, from where the thigh was held as it started back: a knee
            # sagging slowly as the arms tire is still held, and so is one eased 3 degrees over
            # the hold and dipped 6 more as the hands re-grip (from the top, more than a quarter
            # of a 33-degree knee to chest from hook-lying).
            if self.fast_since_s is not None and (
                    self._held_before_deg(self.fast_since_s) - y
                    >= max(self._hold_band_deg(self.peak), s.hold_end_fraction * self.peak)):
                events.append(self._end_hold(t_s))
        elif (self.exercise.times_holds and self.settled_s is not None and not moving_on
              and t_s - self.settled_s >= s.min_hold_s
              and back_deg < max(self._hold_band_deg(self.peak), s.hold_end_fraction * self.peak)):
            # The earlier of two readings, each late in its own case: the position's after a
            # quick movement (the smoothing's tail), the speed's after a movement that eases off
            # more abruptly than a minimum-jerk one.
            by_speed_s = self.settled_s - self.delay_s + self._tail_s()
            self.hold_start_s = min(self._arrival_s(self.settled_s, t_s), by_speed_s, t_s - self.delay_s)
            self._back = None
            if self._in_gap(self.settled_s) and not self._arrival_seen_across_gap(self.settled_s, t_s):
                # Found only across a gap, and the thigh was not seen arriving: it got there
                # before the gap or in it.
                self.hold_start_s = self._arrival_in_gap_s()
            self.hold_level = y
            events.append(Event("hold_started", self.hold_start_s))

        # At the far end for far longer than any hold: a new resting pose, not a rep. Where no
        # start pose is documented, whatever the thigh did from it since it settled there was
        # done from the rest, and is counted again so.
        if still and self.settled_s is not None and t_s - self.settled_s >= self._rebase_s():
            if self._pose_recountable():
                return events + self._count_again_from_pose()
            if self.hold_active:
                events.append(Event("hold_cancelled", t_s - self.delay_s))
            self._low_reset(t_s, angle_deg)
            self._new_rest(angle_deg)
        return events

    def _count_rep(self, amplitude_deg: float, duration_s: float, at_s: float) -> Event:
        """Count a rep of this size and length, done at ``at_s``: what sizes the rep threshold
        and the pace, and what an abandoned one is taken back by."""
        self.reps += 1
        self._settled_since_rep = False
        self._range_unknown.append(self.rep_threshold_deg < 2.0 * self._floor_deg())
        self.amplitudes.append(amplitude_deg)
        self.durations.append(duration_s)
        self._counted.append(amplitude_deg)
        self._holds_at_count.append(len(self.holds))
        return Event("rep_counted", at_s, rep=self.reps)

    def _short_reps_home(self, level_deg: float, band: float) -> list[Event]:
        """The thigh went out and has settled home again at ``level_deg`` without starting a
        rep. Until the usual range is known, one outsized first rep (a practice rep to the full
        range, a knock at its far end) can set the rep threshold beyond every rep after it:
        two such movements in a row, alike in size and well beyond an abandoned one, are
        reps, and count (a pause out there is not timed as a hold)."""
        s = self.settings
        out_deg, left_s, home_s = self._out_deg, self._left_s, self._still_since_s
        away = abs(level_deg - self._home_deg) > band
        if away and home_s - left_s < s.rebase_no_hold_s:
            return []                       # settled out there, for now
        self._out_deg, self._left_s = 0.0, None
        floor = max(self.exercise.excursion_deg[0] * s.first_rep_fraction,
                    s.abandoned_fraction * self.typical_excursion_deg)
        if (away or out_deg < floor
                or not self._min_rep_s() <= home_s - left_s < s.rebase_no_hold_s):
            self._short_reps.clear()
            return []
        self._short_reps.append((left_s, home_s, out_deg))
        if len(self._short_reps) < 2:
            return []
        (_, _, a), (_, _, b) = self._short_reps[-2:]
        if min(a, b) < s.short_reps_alike_fraction * max(a, b):
            del self._short_reps[0]
            return []
        events = [self._count_rep(out_deg, home_s - left_s, home_s - self.delay_s)
                  for left_s, home_s, out_deg in self._short_reps[-2:]]
        self._short_reps.clear()
        self._last_peak_deg = None
        return events

    def _retract_abandoned_early_reps(self, t_s: float) -> list[Event]:
        """Before this person's usual range is known, a movement abandoned well short of it can
        pass for a rep: the first, or a wiggle on the way back from the first real one while the
        rep threshold still follows the first. Until `typical_reps` reps stand, every count
        weighs them all against their median, and takes back any well short of it; after that,
        until `floor_reps_weighed_until`, it weighs those counted while the range was still
        unknown (a wiggle before the set) against the median of the latest `typical_reps`."""
        s = self.settings
        counted = self._counted
        n = len(counted)
        if s.retract_after_reps <= n <= s.typical_reps:
            usual, weighed = sorted(counted)[n // 2], [True] * n
        elif s.typical_reps < n <= s.floor_reps_weighed_until:
            # Later, only reps counted while the range was still unknown, against the latest.
            usual = sorted(counted[-s.typical_reps:])[s.typical_reps // 2]
            weighed = list(self._range_unknown)
        else:
            return []
        events: list[Event] = []
        i = 0
        while i < len(counted):
            if not weighed[i] or counted[i] >= s.abandoned_fraction * usual:
                i += 1
                continue
            del weighed[i]
            events.append(self.retract_rep(i, t_s))
        return events

    def take_new_reference(self, t_s: float) -> list[Event]:
        """The angle is measured from a new reference pose from grid time ``t_s`` on: the
        movement under way out from the old one was into that pose, no rep. The new pose is the
        rest, and the thigh's way out of it starts from there."""
        events = [Event("hold_cancelled", t_s - self.delay_s)] if self.hold_active else []
        self._forget_recent_angles()
        self._low_reset(t_s, 0.0)
        self._new_rest(0.0)
        return events

    def count_found_rep(self, amplitude_deg: float, duration_s: float, at_s: float) -> Event:
        """Count a rep found by the engine (a movement the way it had wrongly ignored), of this
        size and length, that ended at grid time ``at_s``. It is not under review: it was
        found against the way the reps before it went."""
        event = self._count_rep(amplitude_deg, duration_s, at_s - self.delay_s)
        self._range_unknown[-1] = False
        return event

    def counted_before_range_known(self, i: int) -> bool:
        """Whether the counted rep at index ``i`` was counted while the person's range was still
        of the floor's order, and is still under review (see `floor_reps_weighed_until`)."""
        return len(self._counted) <= self.settings.floor_reps_weighed_until and self._range_unknown[i]

    def retract_rep(self, i: int, t_s: float) -> Event:
        """Take back the counted rep at index ``i`` (0 is the first that stands), its holds with
        it (its pause was no hold either), at grid time ``t_s``."""
        counted = self._counted
        first_hold = self._holds_at_count[i - 1] if i else 0
        n_holds = self._holds_at_count[i] - first_hold
        del self.holds[first_hold:self._holds_at_count[i]]
        # The amplitudes and durations are the latest `typical_reps` counted reps'.
        recent = i - (len(counted) - len(self.amplitudes))
        if recent >= 0:
            del self.amplitudes[recent], self.durations[recent]
        del counted[i], self._holds_at_count[i], self._range_unknown[i]
        for j in range(i, len(self._holds_at_count)):
            self._holds_at_count[j] -= n_holds
        if i == len(counted):
            self._last_peak_deg = None      # its fall no longer sizes a counted rep
        self.reps -= 1
        return Event("rep_retracted", t_s - self.delay_s, rep=self.reps, retracted=i + 1)

    def _in_gap(self, t_s: float) -> bool:
        """Whether a moment found at grid time ``t_s`` came from the jump across the latest gap."""
        # Until the angle taken afresh after it, and the smoothing started there, have settled.
        gap = self.gap
        return gap is not None and gap.seen_again_s <= t_s <= gap.retaken_s + 2.0 * self.delay_s

    def _moved_in_gap(self) -> bool:
        """Whether the thigh moved, unseen, across the latest gap: by more than the hold band."""
        return abs(self.gap.moved_deg) >= self._hold_band_deg(self.peak)

    def _arrival_in_gap_s(self) -> float:
        """When the thigh reached the far end, given that it was not seen arriving: beside the
        latest gap. Still on its way when last seen, it arrived in the gap, as far in as the rest
        of the way at that speed takes a movement that eases off; not on its way, it was there
        already, unless it moved across the gap by more than the hold band (it got there
        unseen: the hold is timed from when it was seen there)."""
        gap = self.gap
        speed_dps = abs(gap.last_seen_dps)
        if speed_dps >= self._speed_mark_dps():
            rest_of_way_s = self.settings.gap_ease_factor * abs(gap.moved_deg) / speed_dps
            return min(gap.seen_again_s, gap.last_seen_s + rest_of_way_s)
        return gap.seen_again_s if self._moved_in_gap() else gap.last_seen_s

    def _departure_in_gap_s(self) -> float:
        """When the thigh left the far end, given that it started back unseen, in the latest
        gap: seen on its way back just after it, as long before as the way it had come at that
        speed takes a movement that eases in; otherwise when it was last seen."""
        gap = self.gap
        speed_dps = abs(gap.seen_again_dps)
        if speed_dps < self._speed_mark_dps():
            return gap.last_seen_s
        way_so_far_s = self.settings.gap_ease_factor * abs(gap.moved_deg) / speed_dps
        return min(gap.seen_again_s, max(gap.last_seen_s, gap.seen_again_s - way_so_far_s))

    def _pulling(self, t_s: float, out_deg: float, speed_dps: float) -> bool:
        """Whether the thigh is being drawn on out at the far end (see `pull_window_s`): a new
        movement, after the one out (or the last pull) has ended, from a moment it was slow."""
        s = self.settings
        pull = self._pull
        if pull is None:
            return False                # the movement out is still under way
        if pull.peak_dps is None:
            # A pull sets out from the latest moment the thigh was as slow as it has been lately
            # or slower than the speed floor (a pause, or the turn of a strap ringing), and goes
            # further than a re-grip beyond the furthest it had been by then: the slow tail of a
            # brisk move keeps setting out afresh as it slows, and a strap ringing swings back
            # out no further.
            if t_s - pull.from_s > s.pull_window_s:
                pull.slowest_dps = abs(speed_dps)
            if abs(speed_dps) <= max(pull.slowest_dps, s.speed_floor_dps):
                pull.set_out(t_s, out_deg, max(self.peak, out_deg), min(pull.slowest_dps, abs(speed_dps)))
            if out_deg - pull.furthest_deg <= s.regrip_deg:
                return False
            pull.peak_dps = 0.0
        pull.peak_dps = max(pull.peak_dps, speed_dps * self.direction)
        if abs(speed_dps) < max(s.speed_floor_dps, s.speed_fraction * pull.peak_dps):
            self._pull = _Pull(out_deg, t_s, max(self.peak, out_deg))   # a later one sets out afresh
            return False
        return True

    def _speed_mark_dps(self) -> float:
        """Faster than this, the thigh is on the move: a tenth of the movement's peak speed."""
        s = self.settings
        return max(s.speed_floor_dps, s.speed_fraction * self.peak_speed_dps)

    def _arrival_s(self, settled_s: float, now_s: float) -> float:
        """When the thigh arrived where it holds: since when it has stayed within the arrival
        band of its level over ``settled_s``..``now_s``, read back from ``settled_s``."""
        return self._arrival_grid_s(settled_s, now_s) - self.delay_s + self._arrival_shift_s()

    def _arrival_grid_s(self, settled_s: float, now_s: float) -> float:
        """The first grid time of the stretch within the arrival band that ends at ``settled_s``."""
        level = self._median_out(settled_s, now_s)
        floor = level - self._arrival_band_deg()
        t_in = settled_s
        for t, y in reversed(self._trail):
            if t > settled_s:
                continue
            if y < floor:
                break
            t_in = t
        return t_in

    def _arrival_seen_across_gap(self, settled_s: float, now_s: float) -> bool:
        """Whether the arrival at the far end was seen although the speed settled across the
        latest gap: the thigh was still on its way after the gap, or already there before it.
        Only an arrival at the first moment seen after the gap may have happened unseen."""
        first_after = next(((t, y) for t, y in self._trail if t >= self.gap.seen_again_s), None)
        if first_after is None:
            return False
        if self._arrival_grid_s(settled_s, now_s) < first_after[0]:
            return True                                 # there before the gap, and seen there
        # Seen on its way after the gap: short of where it holds by more than sway and the
        # settling of the estimate taken afresh after the gap.
        short_deg = self._median_out(settled_s, now_s) - first_after[1]
        return short_deg > max(self.settings.settled_floor_deg, self._arrival_band_deg())

    def _departure_s(self, began_s: float, now_s: float) -> float:
        """When the thigh left the far end: the last moment within the arrival band of its
        level over the second before its speed rose, at ``began_s``."""
        level = self._median_out(began_s - 1.0, began_s)
        floor = level - self._arrival_band_deg()
        t_out = now_s
        for t, y in reversed(self._trail):
            t_out = t
            if y >= floor:
                break
        return t_out - self.delay_s - self._arrival_shift_s()

    def _arrival_band_deg(self) -> float:
        return self.settings.arrival_fraction * self.peak

    def _tail_s(self) -> float:
        """What is left of a minimum-jerk movement once its speed is under the speed mark."""
        return self._tail * self._move_scale_s()

    def _arrival_shift_s(self) -> float:
        return self.settings.arrival_shift * self._move_scale_s()

    def _move_scale_s(self) -> float:
        """Amplitude over peak speed: a movement's duration, up to a factor set by its profile."""
        return self.peak / max(self.peak_speed_dps, 1e-6)

    def _held_before_deg(self, began_s: float) -> float:
        """How far out the thigh was held in the second before it started back at ``began_s``."""
        return min(self.peak, self._median_out(began_s - 1.0, began_s))

    def _median_out(self, from_s: float, to_s: float) -> float:
        ys = sorted(y for t, y in self._trail if from_s <= t <= to_s)
        return ys[len(ys) // 2] if ys else self.peak

    def _floor_deg(self) -> float:
        """The rep threshold before anything is known of this person's range."""
        return self.exercise.excursion_deg[0] * self.settings.first_rep_fraction

    def _min_rep_s(self) -> float:
        """Knocks are quicker than any rep, and so is shifting on the bed once the person's own
        pace is known."""
        s = self.settings
        if len(self.durations) < 2:
            return s.min_rep_s
        typical = sorted(self.durations)[(len(self.durations) - 1) // 2]
        return max(s.min_rep_s, s.typical_duration_fraction * typical)

    def _rebase_s(self) -> float:
        s = self.settings
        if not self.exercise.times_holds:
            return s.rebase_no_hold_s
        target = self.exercise.hold_target_s
        return s.rebase_hold_targets * target if target > 0 else s.rebase_hold_s

    def _end_hold(self, t_s: float) -> Event:
        # From the first movement back that the thigh did not come back from: a knee lowered
        # a fifth of the way, paused half a second and lowered the rest left the hold at the
        # first move (read from the pause, the hold ran 2 s long).
        if self._back is not None:
            began = self._back[0]
        else:
            began = self.fast_since_s if self.fast_since_s is not None else t_s
        self._back = None
        # The later of the two readings, each early in its own case (as for the start).
        by_speed_s = began - self.delay_s - self._tail_s()
        end_s = max(self.hold_start_s, self._departure_s(began, t_s), by_speed_s)
        if self._in_gap(began) and self.hold_start_s <= self.gap.last_seen_s and self._moved_in_gap():
            end_s = self._departure_in_gap_s()   # it started back unseen
        hold = Hold(self.hold_start_s, end_s)
        self.hold_start_s = None
        self.settled_s = None   # a later pause at the far end is a hold of its own
        self.holds.append(hold)
        return Event("hold_ended", end_s, hold=hold)

    def finish(self) -> list[Event]:
        """End of the stream: a hold still under way is dropped (its rep never came back)."""
        self.hold_start_s = None
        return []
