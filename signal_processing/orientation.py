"""Thigh inclination from accelerometer and gyroscope, one sample at a time.

The estimator tracks the direction of "up" in the sensor's own axes with a complementary
filter: the gyroscope (bias removed) rotates it, the accelerometer pulls it back whenever the
thigh is not being jolted. Rehab movements are slow (a few hundredths of a g of movement
acceleration), so the pull is strong and weakens only as the specific force departs from 1 g
(from gravity as this accelerometer read it in the reference pose: a MEMS part's offsets and
scale errors put that anywhere from about 0.9 to 1.1 g): the gyroscope smooths and bridges,
gravity decides where the thigh is. (Trusting the gyroscope
through whole movements overshoots badly on real sensors whose rate scale is off.) The
departure from 1 g that weakens the pull is averaged over a tenth of a second: a tremor swings
the accelerometer by tens of degrees each cycle, and a gain following it within the cycle
turned the swing into a bias of several degrees at the far end of a held rep. For the same
reason the pull is toward the accelerometer's reading itself, not its direction: a swing across
the thigh turns that direction further one way than the other, so the mean direction is off
gravity by degrees (enough to pass for a pelvic tilt), while the mean reading is gravity.
Samples whose specific force is far from 1 g (a knock on the bed or the sensor, the swing of a
fast movement) do not pull at all; the gyroscope still turns the estimate, as in Fusion. "Far"
grows with a steady shake: a tremor's peaks are not jolts, and dropping only them would bias
the mean as well.

Inclination is the angle of the thigh's long axis above the horizontal, measured in the plane
of the motion (from "up"'s components along the long axis and along the thigh's front), from
the reference pose. The long axis is not known from a single still pose, so it is learnt from
the direction in which "up" moves during the first real excursion (the knee goes up first in
every exercise of the programme), then fixed: it is a property of the strap on this thigh. It
is refined by every turn about it (the strap slipping, the leg rolling): such a turn's axis, as
the gyroscope reads it, is the long axis itself, while the first excursion showed it only
roughly (a hip rolls the thigh a little as it bends). The front follows the strap slipping
round the thigh and is re-taken during rests near flat. Taking
the angle in the plane matters past upright: a thigh that swings out as it comes up never
points straight up, so its plain elevation tops out short of 90 degrees and must jump to the
far side.

This mirrors Fusion's AHRS (gain, acceleration rejection, bias tracking at rest) reduced to the
gravity direction, which is all inclination needs, written with plain floats so that a
Raspberry Pi Zero 2 W spends a few microseconds per sample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_DEG = math.pi / 180.0


@dataclass(frozen=True)
class OrientationSettings:
    """Tunables of the inclination estimator; units in the names."""

    #: Time constant pulling "up" toward the accelerometer when it reads exactly 1 g.
    still_tau_s: float = 0.05
    #: Extra time constant per g of departure from 1 g: the further, the less it is gravity.
    tau_per_g_s: float = 4.0
    #: The departure from 1 g that sets the pull is averaged over this long, longer than a
    #: tremor's cycle: a gain that changed within the cycle would rectify the tremor's swing
    #: of the accelerometer into a bias of degrees.
    force_error_tau_s: float = 0.1
    #: Extra time constant per degree-per-second of rotation.
    tau_per_dps_s: float = 0.0
    #: Specific force further than this from 1 g is a jolt: the accelerometer is ignored...
    jolt_g: float = 0.3
    #: ...or, while the sensor shakes steadily (a tremor), further than this many times the
    #: recent mean departure. A sinusoid's peak is 1.57 times its mean; a knock stands far out.
    jolt_ratio: float = 2.5
    #: The long axis is learnt from the motion between these tilts from the reference.
    axis_learn_deg: float = 4.0
    axis_fix_deg: float = 25.0
    #: No further than this from the reference, a movement may be a shift on the bed (the leg
    #: rolling or the body settling, the other leg's set rocking this thigh), not a rep (see
    #: ``axis_relearn_ratio``). At 8 degrees, a 10-degree rock before the first rep fixed the
    #: axis for good and the heel slides after it read as a few degrees.
    shift_max_deg: float = 12.0
    #: An excursion back inside ``axis_learn_deg`` with the gyroscope turned less than this
    #: while it was out was no movement of the thigh ("up" turns only as the thigh turns): it
    #: was a knock's tug on the accelerometer, and teaches nothing. Out past the learning
    #: cone and back in, a real movement turns at least twice the difference.
    axis_min_turn_deg: float = 1.0
    #: An axis learnt from a first excursion that came back within ``shift_max_deg`` (a shift on
    #: the bed and back, or a rep that small) is provisional: it is learnt again from the first
    #: excursion this many times as far, or from one that reaches ``axis_fix_deg``. Learnt for
    #: good from a 5-degree shift and back, it read a knee drawn to 117 degrees as 18. One
    #: within ``axis_back_deg`` of the provisional way's opposite is the way back, and is not
    #: followed: from hook-lying, the legs lowered flat go the tilts' way back, and learnt from
    #: that, the axis turned round.
    axis_relearn_ratio: float = 2.0
    axis_back_deg: float = 45.0
    #: Whether a pose the thigh lies still in before the long axis is learnt can be a new rest
    #: (below). Not for an exercise done from a documented pose: its first excursions from
    #: the reference are the one-way move into the pose, or, recorded from there, tilts of a
    #: few degrees, and the other leg rocking this thigh sideways while the first tilt was
    #: held made the tilt's far end the reference (1 of 8 counted).
    rest_poses_before_axis: bool = True
    #: Before the long axis is learnt, "up" still this long out of the learning cone is a pose
    #: the thigh may have moved into (the strap slipped round it, the leg rolled and stayed)
    #: rather than the far end of the first excursion...
    pose_still_s: float = 1.0
    #: ...and it was, if the next movement from it turns more than this from both the way back
    #: to the reference and the way on from it: that movement is the first excursion, from
    #: that pose, the new reference.
    pose_turn_deg: float = 45.0
    #: A turn within this of the long axis is a turn about it (the strap slipping, the leg
    #: rolling): its axis is the long axis, and refines it...
    axial_cone_deg: float = 20.0
    #: ...once this fast (slower is the gyroscope's noise and leftover bias, which the thigh's
    #: front does not follow either)...
    axial_min_dps: float = 5.0
    #: ...moving the axis most of the way there over this much turning...
    axial_learn_deg: float = 10.0
    #: ...while the thigh is within this of flat: nearer upright, a sway about the vertical
    #: turns about an axis close to the long one, and would pass for it.
    axial_max_elevation_deg: float = 60.0
    #: A turn about the long axis has ended once no sample has been one for this long.
    axial_end_s: float = 0.25
    #: Time constant of gyroscope-bias tracking during rests.
    bias_tau_s: float = 20.0
    #: A rest for bias tracking: rotation below this and specific force within `rest_g` of 1 g.
    rest_dps: float = 3.0
    rest_g: float = 0.03


def _normalised(x: float, y: float, z: float) -> tuple[float, float, float]:
    n = math.sqrt(x * x + y * y + z * z)
    if n == 0.0:
        return 0.0, 0.0, 1.0
    return x / n, y / n, z / n


class InclinationEstimator:
    """Streaming inclination of the thigh relative to the reference pose, in degrees.

    ``start(up, gyro_bias_dps)`` takes the reference pose; ``update(...)`` then returns the
    inclination for each sample. Positive is knee up once the long axis is learnt; until then
    the estimate is the unsigned tilt from the reference, which agrees with it for the first
    excursion.
    """

    def __init__(self, settings: OrientationSettings | None = None) -> None:
        self.settings = settings or OrientationSettings()
        self.reset()

    def reset(self) -> None:
        self.up = (0.0, 0.0, 1.0)
        self.reference_up = (0.0, 0.0, 1.0)
        self.anterior = (0.0, 0.0, 1.0)
        self.axis_sum = (0.0, 0.0, 0.0)
        self.axis: tuple[float, float, float] | None = None
        self.axis_fixed = False
        #: The axis came from an excursion short of ``axis_fix_deg`` (see ``axis_relearn_ratio``):
        #: how far (a cosine) that one went, and the current excursion's sum and farthest.
        self.axis_provisional = False
        self._axis_far_cos = 1.0
        self._relearn = (0.0, 0.0, 0.0, 1.0)
        self._excursion_deg = 0.0     # how far the gyroscope turned while "up" was out of the cone
        self.gyro_bias_dps = (0.0, 0.0, 0.0)
        #: Gravity as this accelerometer read it in the reference pose. A MEMS part's offsets and
        #: scale errors make that anything from about 0.9 to 1.1 g; "how far from gravity" (is
        #: it a jolt, is the thigh at rest, may the axis be learnt) is measured from it.
        self.gravity_g = 1.0
        self.force_error_g = 0.0
        #: Subtracted from the angle so that refining the axis does not move it by itself.
        self.axis_offset_deg = 0.0
        #: Before the axis is learnt: a pose "up" was still in out of the learning cone (see
        #: ``pose_still_s``), or None, and how long "up" has been still.
        self._pose: tuple[float, float, float] | None = None
        self._pose_still_s = 0.0
        self._pose_turned_deg = 0.0   # how far the gyroscope has turned since last still
        #: Index, in the latest ``update``'s samples, of the one from which the reference was
        #: re-taken at such a pose (its angle is measured from there on), or None.
        self.rereferenced_at: int | None = None
        #: A turn about the long axis under way: "up", the axis and the offset as it began.
        self._turn: tuple | None = None
        self._turn_quiet_s = 0.0
        self._calm_up = self.up       # "up" when the sensor last turned slower than a slip

    def start(self, up: np.ndarray, gyro_bias_dps: np.ndarray) -> None:
        """Take the reference pose: ``up`` is the mean accelerometer reading at rest."""
        self.reset()
        self.up = _normalised(*map(float, up))
        self.gravity_g = float(np.linalg.norm(up)) or 1.0
        self.reference_up = self.up
        self.anterior = self.up
        self.gyro_bias_dps = tuple(map(float, gyro_bias_dps))

    def resume(self, accel_g: tuple[float, float, float] | np.ndarray) -> None:
        """After lost samples the gyroscope has not followed the thigh: take "up" afresh from
        ``accel_g``, a mean accelerometer reading. A turn about the long axis is read from where
        the sensor is now, not from where it was before the gap."""
        self.up = self._calm_up = _normalised(*map(float, accel_g))
        self._turn = None
        if self.axis_fixed:
            # Within 30 degrees of flat the front is plain from gravity, as in `update`: the
            # first angle after the gap must not be read through a front the strap has
            # turned away from, unseen.
            (ux, uy, uz), (lx, ly, lz) = self.up, self.axis
            sin_el = ux * lx + uy * ly + uz * lz
            if -0.5 < sin_el < 0.5:
                self.anterior = _normalised(ux - sin_el * lx, uy - sin_el * ly, uz - sin_el * lz)

    def first_up_of(self, dt_s: np.ndarray, accel_g: np.ndarray, gyro_dps: np.ndarray,
                    calm: np.ndarray) -> tuple[float, float, float]:
        """Gravity's direction in the sensor's axes just before the first of these samples:
        the mean of the ``calm`` accelerometer readings, each turned back (by the gyroscope)
        to where the sensor was then. A plain mean is "up" half-way through the readings,
        tens of degrees from where a thigh on its way was at the first of them."""
        bx, by, bz = self.gyro_bias_dps
        sx = sy = sz = 0.0
        for i in range(len(dt_s) - 1, -1, -1):
            if calm[i]:
                ax, ay, az = accel_g[i].tolist()
                sx, sy, sz = sx + ax, sy + ay, sz + az
            norm = math.sqrt(sx * sx + sy * sy + sz * sz)
            if not norm:
                continue
            dt = float(dt_s[i])
            gx, gy, gz = gyro_dps[i].tolist()
            wx, wy, wz = (gx - bx) * _DEG * dt, (gy - by) * _DEG * dt, (gz - bz) * _DEG * dt
            # ``update`` turns "up" by u x w; this undoes it.
            sx, sy, sz = sx - (sy * wz - sz * wy), sy - (sz * wx - sx * wz), sz - (sx * wy - sy * wx)
            k = norm / math.sqrt(sx * sx + sy * sy + sz * sz)
            sx, sy, sz = sx * k, sy * k, sz * k
        return _normalised(sx, sy, sz)

    def update(self, dt_s: np.ndarray, accel_g: np.ndarray, gyro_dps: np.ndarray,
               ups: list | None = None) -> np.ndarray:
        """Return the inclination in degrees for each sample; ``dt_s`` is each sample's step.

        If ``ups`` is a list, each sample's unit "up" vector (sensor axes) is appended to it.
        """
        s = self.settings
        n = len(dt_s)
        out = np.empty(n)
        ux, uy, uz = self.up
        rx, ry, rz = self.reference_up
        fx, fy, fz = self.anterior
        bx, by, bz = self.gyro_bias_dps
        sx, sy, sz = self.axis_sum
        shift_cos = math.cos(s.shift_max_deg * _DEG)
        axis = self.axis
        axis_fixed = self.axis_fixed
        provisional, far_cos = self.axis_provisional, self._axis_far_cos
        px, py, pz, p_far = self._relearn
        relearn_ratio = s.axis_relearn_ratio
        back_cos = math.cos(s.axis_back_deg * _DEG)
        learn_cos = math.cos(s.axis_learn_deg * _DEG)
        excursion_deg, min_turn_deg = self._excursion_deg, s.axis_min_turn_deg
        fix_cos = math.cos(s.axis_fix_deg * _DEG)
        still_tau, tau_per_dps, tau_per_g, jolt_g = s.still_tau_s, s.tau_per_dps_s, s.tau_per_g_s, s.jolt_g
        jolt_ratio = s.jolt_ratio
        axial_cos_sq = math.cos(s.axial_cone_deg * _DEG) ** 2
        axial_min_sq = (s.axial_min_dps * _DEG) ** 2
        axial_learn = s.axial_learn_deg * _DEG
        axial_sin_max = math.sin(s.axial_max_elevation_deg * _DEG)
        offset = self.axis_offset_deg
        axial_end_s = s.axial_end_s
        turn, quiet_s, calm_up = self._turn, self._turn_quiet_s, self._calm_up
        pose, pose_still_s, pose_turned_deg = self._pose, self._pose_still_s, self._pose_turned_deg
        self.rereferenced_at = None
        pose_settle_s = s.pose_still_s if s.rest_poses_before_axis else math.inf
        pose_turn_cos = math.cos(s.pose_turn_deg * _DEG)
        rest_dps, rest_g, bias_tau = s.rest_dps, s.rest_g, s.bias_tau_s
        gravity = self.gravity_g
        ferr = self.force_error_g
        ferr_tau = s.force_error_tau_s
        dts = dt_s.tolist()
        acc = accel_g.tolist()
        gyr = gyro_dps.tolist()
        for i in range(n):
            dt = dts[i]
            ax, ay, az = acc[i]
            gx, gy, gz = gyr[i]
            if ups is not None and i:
                ups.append((ux, uy, uz))
            gx -= bx
            gy -= by
            gz -= bz
            anorm = math.sqrt(ax * ax + ay * ay + az * az)
            aerr = abs(anorm - gravity)
            # "up" is fixed in the world, so in the sensor's axes it turns against the sensor. The
            # gyroscope always counts (as in Fusion): a knock shakes it for a few hundredths of a
            # second, which gravity then undoes, while a fast movement's turn is real.
            wx, wy, wz = gx * _DEG * dt, gy * _DEG * dt, gz * _DEG * dt
            ux, uy, uz = ux + (uy * wz - uz * wy), uy + (uz * wx - ux * wz), uz + (ux * wy - uy * wx)
            if axis_fixed:
                # The thigh's front turns in the sensor's axes as the strap slips round it. Turns
                # about the axis slower than a slip are sway and what is left of the gyroscope's
                # bias: followed, a bias of 1 deg/s (an MPU-6050 warming on the skin drifts by
                # more) turned the front by tens of degrees over a set in hook-lying, which is
                # never near enough flat to re-take it, and the angle with it.
                lx, ly, lz = axis
                wu = wx * lx + wy * ly + wz * lz
                if wu * wu > axial_min_sq * dt * dt:
                    fx, fy, fz = fx + wu * (fy * lz - fz * ly), fy + wu * (fz * lx - fx * lz), fz + wu * (fx * ly - fy * lx)
                w2 = wx * wx + wy * wy + wz * wz
                turning = w2 > axial_min_sq * dt * dt
                if (turning and wu * wu > axial_cos_sq * w2
                        and -axial_sin_max < ux * lx + uy * ly + uz * lz < axial_sin_max):
                    # A turn about the long axis (a slip, a roll): its axis is the long axis,
                    # which the first excursion showed only roughly (a hip that rolls as it
                    # bends tips it by degrees, and a slip then read as a lift or a drop).
                    if turn is None:
                        # From where the sensor was before it began to turn: by the first fast
                        # sample, the turn's own acceleration has already tugged at "up".
                        turn = (*calm_up, axis, offset)
                    quiet_s = 0.0
                    wn = math.sqrt(w2)
                    k = min(1.0, wn / axial_learn)
                    sign = k / wn if wu > 0 else -k / wn
                    lx, ly, lz = _normalised(lx + sign * wx - k * lx, ly + sign * wy - k * ly,
                                             lz + sign * wz - k * lz)
                    axis = (lx, ly, lz)
                    c = fx * lx + fy * ly + fz * lz
                    fx, fy, fz = _normalised(fx - c * lx, fy - c * ly, fz - c * lz)
                    # The angle must not move by the correction: where the thigh was when the
                    # turn began reads the same through the new axis as through the old.
                    vx, vy, vz, (ox, oy, oz), from_offset = turn
                    offset = from_offset + math.degrees(
                        math.asin(max(-1.0, min(1.0, vx * lx + vy * ly + vz * lz)))
                        - math.asin(max(-1.0, min(1.0, vx * ox + vy * oy + vz * oz))))
                elif turn is not None:
                    quiet_s += dt
                    if quiet_s >= axial_end_s:
                        turn = None
                if not turning:
                    calm_up = (ux, uy, uz)
            # A jolt stands out of the recent shake; a tremor's peaks are part of it.
            jolt = aerr >= jolt_g and aerr >= jolt_ratio * ferr
            ferr += dt / (ferr_tau + dt) * (aerr - ferr)
            rate_dps = math.sqrt(gx * gx + gy * gy + gz * gz)
            if not jolt:
                k = dt / (still_tau + tau_per_dps * rate_dps + tau_per_g * ferr)
                if k > 1.0:
                    k = 1.0
                ux += k * (ax - ux)
                uy += k * (ay - uy)
                uz += k * (az - uz)
                norm = math.sqrt(ux * ux + uy * uy + uz * uz)
                ux, uy, uz = ux / norm, uy / norm, uz / norm
                if rate_dps < rest_dps and aerr < rest_g:
                    kb = dt / bias_tau
                    bx += kb * gx
                    by += kb * gy
                    bz += kb * gz
            else:
                # A jolt (a knock, or the pull of a fast swing): the accelerometer is not gravity.
                norm = math.sqrt(ux * ux + uy * uy + uz * uz)
                ux, uy, uz = ux / norm, uy / norm, uz / norm
            if not axis_fixed:
                c = ux * rx + uy * ry + uz * rz
                if c < learn_cos:
                    still = rate_dps < rest_dps and aerr < rest_g
                    pose_still_s = pose_still_s + dt if still else 0.0
                    pose_turned_deg = 0.0 if still else pose_turned_deg + rate_dps * dt
                    if pose is None and pose_still_s >= pose_settle_s:
                        pose = (ux, uy, uz)
                    elif pose is not None and not still:
                        qx, qy, qz = pose
                        cq = ux * qx + uy * qy + uz * qz
                        # Off it, and the gyroscope saw the turn: a knock tugs at the
                        # accelerometer, and "up" with it, while the sensor hardly turns.
                        if cq < learn_cos and pose_turned_deg >= 0.5 * math.degrees(math.acos(cq)):
                            # Moved off the pose: back to the reference, or on the way it came, is
                            # the first excursion going on; any other way, the pose was a new
                            # rest and this is the first excursion, from there.
                            pose = None
                            mx, my, mz = _normalised(ux - cq * qx, uy - cq * qy, uz - cq * qz)
                            cr = rx * qx + ry * qy + rz * qz
                            tx, ty, tz = _normalised(rx - cr * qx, ry - cr * qy, rz - cr * qz)
                            if abs(mx * tx + my * ty + mz * tz) < pose_turn_cos:
                                rx, ry, rz = fx, fy, fz = qx, qy, qz
                                sx = sy = sz = 0.0
                                axis, far_cos, excursion_deg = None, 1.0, 0.0
                                self.rereferenced_at = i
                                c = cq
                    excursion_deg += rate_dps * dt
                    if c < far_cos:
                        far_cos = c
                    if aerr < rest_g * 3:
                        # The first real excursion: "up" moves toward the long axis (knee up).
                        # Its direction over the first tens of degrees is the axis; then fixed.
                        # Each sample counts by how far the sensor turned in it: a pose held out
                        # here (a shift on the bed, 5 degrees of roll held for seconds) is no
                        # way at all, and counted by the sample, it outweighed the heel slide
                        # that followed, which then read as a few degrees.
                        w = rate_dps * dt / math.sqrt(max(1e-12, 1.0 - c * c))
                        sx, sy, sz = sx + (ux - c * rx) * w, sy + (uy - c * ry) * w, sz + (uz - c * rz) * w
                        if sx or sy or sz:
                            axis = _normalised(sx, sy, sz)
                        if c < fix_cos and axis is not None:
                            axis_fixed = True
                else:
                    if axis is not None:
                        if excursion_deg >= min_turn_deg:
                            axis_fixed = True   # the first excursion ended short of fix_deg
                            provisional = far_cos > shift_cos
                        else:
                            # A knock tugged "up" out and back, the thigh did not turn: its way
                            # is no axis (followed, it turned a set of heel slides into dips,
                            # none counted).
                            sx = sy = sz = 0.0
                            axis = None
                    excursion_deg = 0.0
                    pose, pose_still_s = None, 0.0
                    if not axis_fixed:
                        far_cos = 1.0
                if axis is None:
                    out[i] = math.degrees(math.acos(max(-1.0, min(1.0, c))))
                    continue
            elif provisional:
                c = ux * rx + uy * ry + uz * rz
                relearnt = False
                if c < learn_cos:
                    if c < p_far:
                        p_far = c
                    if aerr < rest_g * 3:
                        w = rate_dps * dt / math.sqrt(max(1e-12, 1.0 - c * c))
                        px, py, pz = px + (ux - c * rx) * w, py + (uy - c * ry) * w, pz + (uz - c * rz) * w
                    # Twice as far out as the excursion the axis came from: this one is the
                    # way, followed from here to its far end.
                    relearnt = (px or py or pz) and (c < fix_cos or math.acos(max(-1.0, p_far)) >= (
                        relearn_ratio * math.acos(min(1.0, far_cos))))
                elif p_far < 1.0:
                    # Back inside the cone. An excursion that set the axis on its way and went
                    # beyond a shift's size has fixed it; a shift-sized one is the new mark.
                    if relearn_ratio * math.acos(min(1.0, far_cos)) <= math.acos(max(-1.0, p_far)):
                        provisional = p_far > shift_cos
                        far_cos = p_far
                    px = py = pz = 0.0
                    p_far = 1.0
                if relearnt:
                    nx, ny, nz = _normalised(px, py, pz)
                    lx, ly, lz = axis
                    if nx * lx + ny * ly + nz * lz > -back_cos:
                        # Read from here through the new axis, the thigh's front square to it
                        # in the reference pose.
                        axis = lx, ly, lz = nx, ny, nz
                        cr = rx * lx + ry * ly + rz * lz
                        fx, fy, fz = _normalised(rx - cr * lx, ry - cr * ly, rz - cr * lz)
                        offset, turn = 0.0, None
                    if c < fix_cos:
                        provisional = False
            lx, ly, lz = axis
            sin_el = ux * lx + uy * ly + uz * lz
            front = ux * fx + uy * fy + uz * fz
            out[i] = math.degrees(math.atan2(sin_el, front)) - offset
            if axis_fixed and -0.5 < sin_el < 0.5 and rate_dps < rest_dps and not jolt:
                # Within 30 degrees of flat the front is plain from gravity: re-take it whenever
                # the sensor turns slower than a rest, however far its reading of gravity is from
                # the reference's: a MEMS part's offsets (tens of mg) make that depend on which
                # way round it lies, so a strap turned round the thigh, unseen in lost samples,
                # read gravity 0.05 g off, never re-took the front, and read 40-degree heel
                # slides as 74.
                fx, fy, fz = _normalised(ux - sin_el * lx, uy - sin_el * ly, uz - sin_el * lz)
        if ups is not None and n:
            ups.append((ux, uy, uz))
        self.up = (ux, uy, uz)
        self.anterior = (fx, fy, fz)
        self.gyro_bias_dps = (bx, by, bz)
        self.axis_sum = (sx, sy, sz)
        self.axis = axis
        self.axis_fixed = axis_fixed
        self.axis_provisional, self._axis_far_cos = provisional, far_cos
        self._relearn = (px, py, pz, p_far)
        self._excursion_deg = excursion_deg
        self.force_error_g = ferr
        self.axis_offset_deg = offset
        self._turn, self._turn_quiet_s, self._calm_up = turn, quiet_s, calm_up
        self._pose, self._pose_still_s, self._pose_turned_deg = pose, pose_still_s, pose_turned_deg
        self.reference_up = (rx, ry, rz)
        return out
