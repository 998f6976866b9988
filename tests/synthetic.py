"""Small synthetic thigh traces for engine unit tests: exact gravity and rate, no body model.

(The physically complete simulator lives in ``backrep.simulator``; these are for properties
that need one thing varied at a time.)
"""
from __future__ import annotations

import numpy as np

from backrep.simulator.trajectory import MOVEMENT_PROFILES


def rotation_about(axis, angle_rad):
    """(N, 3, 3) rotations about the unit ``axis`` by each angle."""
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    angle_rad = np.atleast_1d(angle_rad)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(angle_rad)[:, None, None], np.cos(angle_rad)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def move_deg(t_s, start_s, duration_s, from_deg, to_deg, profile="minimum_jerk"):
    """The angle at each time during one move shaped by ``profile``, and before and after it."""
    tau = np.clip((t_s - start_s) / duration_s, 0.0, 1.0)
    return from_deg + (to_deg - from_deg) * MOVEMENT_PROFILES[profile](tau)


def flexion_profile(t_s, plan, profile="minimum_jerk"):
    """``plan``: list of (start_s, duration_s, to_deg) moves from 0 degrees, each shaped by
    ``profile`` (one of the simulator's ``MOVEMENT_PROFILES``)."""
    angle = np.zeros_like(t_s)
    current = 0.0
    for start_s, duration_s, to_deg in plan:
        angle = np.where(t_s >= start_s, move_deg(t_s, start_s, duration_s, current, to_deg, profile), angle)
        current = to_deg
    return angle


def thigh_trace(flexion_deg, t_s, mounting=None, strap_deg=None, noise_g=0.0, noise_dps=0.0, seed=0,
                lever_m=0.0, hinge_out_deg=0.0):
    """Accel (g) and gyro (deg/s) of a sensor on a thigh flexing by ``flexion_deg`` about the
    world's y axis (thigh along x when flat), mounted with the (3, 3) rotation ``mounting``
    (sensor axes in thigh axes) and turned round the thigh by ``strap_deg`` (a slipping strap).
    ``lever_m`` is how far down the thigh from the hip the sensor sits: the movement's own
    (tangential and centripetal) acceleration is added to gravity; 0 leaves it out.
    ``hinge_out_deg`` tilts the axis of flexion out of the horizontal, so that the thigh also
    swings out to the side as it comes up (as most people's does)."""
    mounting = np.eye(3) if mounting is None else np.asarray(mounting)
    strap_deg = np.zeros_like(t_s) if strap_deg is None else strap_deg
    hinge_out = np.radians(hinge_out_deg)
    thigh = rotation_about([0, np.cos(hinge_out), np.sin(hinge_out)], -np.radians(flexion_deg))
    strap = rotation_about([1, 0, 0], np.radians(strap_deg))
    sensor = thigh @ strap @ mounting                       # sensor axes -> world
    dt = np.gradient(t_s)
    position_m = thigh @ np.array([lever_m, 0.0, 0.0])
    movement_g = np.gradient(np.gradient(position_m, t_s, axis=0), t_s, axis=0) / 9.80665
    accel_g = np.einsum("nji,nj->ni", sensor, movement_g + np.array([0.0, 0.0, 1.0]))
    dr = np.gradient(sensor, axis=0) / dt[:, None, None]
    omega = np.einsum("nji,njk->nik", sensor, dr)           # R^T dR/dt = [w]x
    gyro_dps = np.degrees(np.stack([omega[:, 2, 1], omega[:, 0, 2], omega[:, 1, 0]], axis=1))
    rng = np.random.default_rng(seed)
    accel_g = accel_g + rng.normal(0, noise_g, accel_g.shape) if noise_g else accel_g
    gyro_dps = gyro_dps + rng.normal(0, noise_dps, gyro_dps.shape) if noise_dps else gyro_dps
    return accel_g, gyro_dps


def random_mounting(rng):
    """Any orientation the strap happens to give."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
