"""The lying body and the strapped sensor: who moves how, and what the sensor truly feels.

World frame: x along the bed toward the feet, y to the person's left, z up; the person lies
on the back. The thigh is a rigid segment hinged at the hip; its long axis (hip to knee) is the
thigh frame's x, its front the thigh frame's z when the leg lies flat.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from backrep.simulator.choreography import Plan
from backrep.simulator.rotation import (body_rates_rad_s, compose, rotation_about_axis,
                                        rotations_about_x, rotations_about_y, rotations_about_z,
                                        second_derivative)
from backrep.simulator.trajectory import breathing_deg, wobble_deg

STANDARD_GRAVITY_M_S2 = 9.80665

# Where the hip joint sits relative to the point the pelvis rocks about (the sacrum on the bed)
# during a pelvic tilt: a little toward the feet and above it, metres.
PELVIS_PIVOT_TO_HIP_M = np.array([0.09, 0.0, 0.08])


@dataclass(frozen=True)
class Person:
    """One person's build and habits; every exercise plan draws its reps from these."""

    name: str
    thigh_length_m: float
    flat_deg: float               # thigh inclination lying flat (thighs taper, beds sag)
    heel_slide_deg: float         # how far a heel slide lifts the thigh from flat
    hook_deg: float               # thigh inclination in hook-lying (knees bent, feet flat)
    tilt_deg: float               # thigh excursion of one pelvic tilt
    tilt_sign: int                # +1: the tilt lifts the knee; -1: it lowers it
    knee_to_chest_deg: float      # top of a knee-to-chest
    hip_flexor_start_deg: float   # both knees hugged to the chest
    hip_flexor_low_deg: float     # bottom of a hip-flexor stretch (may be below the bed edge)
    range_spread: float           # rep-to-rep spread of the range, fraction
    move_s: float                 # typical duration of one movement
    tilt_move_s: float            # duration of one half of a pelvic tilt (slow)
    rest_min_s: float
    rest_max_s: float
    hold_s: float                 # the person's typical hold
    hold_spread_s: float          # rep-to-rep spread of holds (standard deviation)
    tremor_deg: float
    tremor_hz: float
    sway_deg: float
    sway_hz: float
    breathing_deg: float
    breathing_hz: float
    abduction_per_deg: float      # knee drifts out (or in) as the hip flexes
    axial_per_deg: float          # thigh rolls about its axis as the hip flexes
    pelvis_per_tilt_deg: float    # pelvis rotation per degree of thigh motion in a pelvic tilt

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Mounting:
    """Where and how the strap holds the sensor on the thigh.

    The sensor sits ``along_frac`` of the way from hip to knee, ``offset_m`` out from the bone,
    at ``around_deg`` round the thigh (0 = front, ±90 = the sides). Its own axes are turned by
    ``spin_deg`` about its face normal, flipped if ``face`` is ``"in"``, and tilted by
    ``misalign_deg`` about ``misalign_axis`` (the strap never sits square).
    """

    place: str                    # "front" or "side"
    along_frac: float
    offset_m: float
    around_deg: float
    face: str                     # "out" or "in"
    spin_deg: float
    misalign_axis: tuple[float, float, float]
    misalign_deg: float

    def board_rotation(self) -> np.ndarray:
        """(3, 3) sensor axes in the local strap frame (before the strap's place round the thigh)."""
        flip = np.diag([1.0, -1.0, -1.0]) if self.face == "in" else np.eye(3)
        spin = rotation_about_axis(np.array([0.0, 0.0, 1.0]), np.radians(self.spin_deg))
        tilt = rotation_about_axis(np.array(self.misalign_axis), np.radians(self.misalign_deg))
        return flip @ spin @ tilt

    def thigh_axis_in_sensor(self) -> np.ndarray:
        """Unit thigh long axis (hip to knee) in sensor axes; independent of strap slip."""
        return self.board_rotation().T @ np.array([1.0, 0.0, 0.0])

    def as_dict(self) -> dict:
        return asdict(self)


def lateral_sign(side: str) -> float:
    """+1 if the leg's outside is world +y (left leg), -1 if it is −y (right leg)."""
    return 1.0 if side == "left" else -1.0


@dataclass(frozen=True)
class SensorMotion:
    """What an ideal sensor would read on a uniform fine grid, plus the true thigh angle."""

    t_s: np.ndarray
    accel_g: np.ndarray           # specific force, sensor axes
    gyro_dps: np.ndarray          # body angular rate, sensor axes, right-handed
    flexion_deg: np.ndarray       # the thigh's true inclination, beyond 90° past vertical


def knock_shapes(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-peak rate and acceleration shapes of a knock over normalised time 0..1.

    The knock jolts the sensor by a small bump sin⁴(πτ) in angle and position that returns to
    where it was; its first derivative is the rate, its second the acceleration. Both integrate
    to zero over the knock.
    """
    tau = np.clip(tau, 0.0, 1.0)
    s, c = np.sin(np.pi * tau), np.cos(np.pi * tau)
    first = s ** 3 * c
    second = s ** 2 * (3.0 * c * c - s * s)
    return first / 0.32476, second / 1.0  # peaks of |first| and |second| on 0..1


@dataclass(frozen=True)
class SensorPose:
    """The sensor's true orientation and position on a uniform grid."""

    t_s: np.ndarray
    rotation: np.ndarray          # (N, 3, 3) sensor axes -> world
    position_m: np.ndarray        # (N, 3) world, metres
    flexion_deg: np.ndarray       # the thigh's inclination, with tremor, sway and breathing


def sensor_pose(plan: Plan, person: Person, mounting: Mounting, side: str, grid_hz: float) -> SensorPose:
    """Orientation and position of the sensor from the planned joint angles, hip motion and strap."""
    dt_s = 1.0 / grid_hz
    t_s = np.arange(int(np.ceil(plan.duration_s * grid_hz)) + 1) * dt_s
    lat = lateral_sign(side)

    wobble = wobble_deg(t_s, plan.wobbles)
    breathing = breathing_deg(t_s, person.breathing_deg, person.breathing_hz, 0.7)
    flexion_deg = plan.flexion_deg.values(t_s) + wobble + breathing
    abduction_deg = plan.abduction_deg.values(t_s) + 0.4 * wobble \
        + person.abduction_per_deg * (flexion_deg - person.flat_deg)
    axial_deg = plan.axial_deg.values(t_s) + 0.3 * wobble \
        + person.axial_per_deg * (flexion_deg - person.flat_deg)
    pelvis_deg = plan.pelvis_deg.values(t_s)
    strap_deg = plan.strap_deg.values(t_s)

    thigh = compose(rotations_about_z(np.radians(lat * abduction_deg)),
                    rotations_about_y(np.radians(-flexion_deg)),
                    rotations_about_x(np.radians(lat * axial_deg)))
    strap = rotations_about_x(np.radians(mounting.around_deg + strap_deg))
    sensor = compose(thigh, strap, mounting.board_rotation())

    pelvis = rotations_about_y(np.radians(-pelvis_deg))
    hip_m = pelvis @ PELVIS_PIVOT_TO_HIP_M - PELVIS_PIVOT_TO_HIP_M
    hip_m += np.stack([plan.hip_x_m.values(t_s), plan.hip_y_m.values(t_s),
                       plan.hip_z_m.values(t_s)], -1)
    in_thigh_m = (np.array([mounting.along_frac * person.thigh_length_m, 0.0, 0.0])
                  + strap @ np.array([0.0, 0.0, mounting.offset_m]))
    position_m = hip_m + np.einsum("nij,nj->ni", thigh, in_thigh_m)
    return SensorPose(t_s, sensor, position_m, flexion_deg)


def sensor_motion(plan: Plan, person: Person, mounting: Mounting, side: str,
                  grid_hz: float) -> SensorMotion:
    """Ideal specific force (g) and body rate (°/s) of the sensor, from the body's kinematics.

    f = Rᵀ(p̈ + g ẑ) and [ω]× = RᵀṘ, numerically on the ``grid_hz`` grid; knocks are added on top
    in sensor axes (their own tiny rotation of gravity, under 0.04 g, is left out).
    """
    pose = sensor_pose(plan, person, mounting, side, grid_hz)
    t_s, sensor, position_m, flexion_deg = pose.t_s, pose.rotation, pose.position_m, pose.flexion_deg
    dt_s = 1.0 / grid_hz
    force_world = second_derivative(position_m, dt_s)
    force_world[:, 2] += STANDARD_GRAVITY_M_S2
    accel_g = np.einsum("nji,nj->ni", sensor, force_world) / STANDARD_GRAVITY_M_S2
    gyro_dps = np.degrees(body_rates_rad_s(sensor, dt_s))

    for knock in plan.knocks:
        inside = (t_s >= knock.t_s) & (t_s <= knock.t_s + knock.duration_s)
        rate_shape, accel_shape = knock_shapes((t_s[inside] - knock.t_s) / knock.duration_s)
        gyro_dps[inside] += knock.gyro_dps * np.outer(rate_shape, knock.gyro_axis)
        if knock.frame == "world":
            axis = np.einsum("nji,j->ni", sensor[inside], np.array(knock.accel_axis))
        else:
            axis = np.array(knock.accel_axis)[None, :]
        accel_g[inside] += knock.accel_g * accel_shape[:, None] * axis

    return SensorMotion(t_s=t_s, accel_g=accel_g, gyro_dps=gyro_dps, flexion_deg=flexion_deg)
