"""Rotation matrices, vectorised over time.

Conventions: right-handed, active rotations, angles in radians unless the name says ``_deg``.
``R`` maps body (sensor or segment) coordinates into world coordinates.
"""
from __future__ import annotations

import numpy as np


def rotations_about_x(angle_rad: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations about x by each angle."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    return np.stack([np.stack([one, zero, zero], -1),
                     np.stack([zero, c, -s], -1),
                     np.stack([zero, s, c], -1)], -2)


def rotations_about_y(angle_rad: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations about y by each angle."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    return np.stack([np.stack([c, zero, s], -1),
                     np.stack([zero, one, zero], -1),
                     np.stack([-s, zero, c], -1)], -2)


def rotations_about_z(angle_rad: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations about z by each angle."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    return np.stack([np.stack([c, -s, zero], -1),
                     np.stack([s, c, zero], -1),
                     np.stack([zero, zero, one], -1)], -2)


def rotation_about_axis(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """(3, 3) rotation by ``angle_rad`` about ``axis`` (Rodrigues); the axis need not be unit."""
    axis = np.asarray(axis, dtype=float)
    norm = np.linalg.norm(axis)
    if norm == 0.0 or angle_rad == 0.0:
        return np.eye(3)
    k = axis / norm
    kx = skew(k)
    return np.eye(3) + np.sin(angle_rad) * kx + (1.0 - np.cos(angle_rad)) * (kx @ kx)


def skew(v: np.ndarray) -> np.ndarray:
    """(3, 3) cross-product matrix of a 3-vector: ``skew(a) @ b == cross(a, b)``."""
    x, y, z = v
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


def compose(*rotations: np.ndarray) -> np.ndarray:
    """Product of rotations left to right; each (3, 3) or (N, 3, 3)."""
    out = rotations[0]
    for r in rotations[1:]:
        out = np.matmul(out, r)
    return out


def body_rates_rad_s(r: np.ndarray, dt_s: float) -> np.ndarray:
    """(N, 3) body-frame angular velocity from (N, 3, 3) orientations on a uniform grid.

    Central difference of R, then the skew part of Rᵀ Ṙ = [ω_body]×; second-order accurate,
    which on a millisecond grid is far below any sensor noise.
    """
    r_dot = np.empty_like(r)
    r_dot[1:-1] = (r[2:] - r[:-2]) / (2.0 * dt_s)
    r_dot[0] = (r[1] - r[0]) / dt_s
    r_dot[-1] = (r[-1] - r[-2]) / dt_s
    w = np.matmul(np.swapaxes(r, -1, -2), r_dot)
    return 0.5 * np.stack([w[:, 2, 1] - w[:, 1, 2],
                           w[:, 0, 2] - w[:, 2, 0],
                           w[:, 1, 0] - w[:, 0, 1]], -1)


def second_derivative(x: np.ndarray, dt_s: float) -> np.ndarray:
    """Second time derivative along axis 0 on a uniform grid (ends copy their neighbour)."""
    out = np.empty_like(x)
    out[1:-1] = (x[2:] - 2.0 * x[1:-1] + x[:-2]) / (dt_s * dt_s)
    out[0] = out[1]
    out[-1] = out[-2]
    return out
