"""An MPU-6050-class MEMS IMU: what the chip makes of the true motion.

Datasheet figures (InvenSense PS-MPU-6000A rev 3.4): accelerometer noise 400 µg/√Hz, gyroscope
noise 0.005 °/s/√Hz, zero-g offset up to ±60 mg (x, y; more on z), gyro offset up to ±20 °/s
before calibration (we assume a quick power-on calibration leaves ±3 °/s), sensitivity
tolerance ±3 %, cross-axis sensitivity ±2 %, 16-bit outputs at the full-scale ranges below.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backrep.simulator.body import SensorMotion

ACCEL_LSB_PER_G = {2.0: 16384.0, 4.0: 8192.0, 8.0: 4096.0, 16.0: 2048.0}
GYRO_LSB_PER_DPS = {250.0: 131.0, 500.0: 65.5, 1000.0: 32.8, 2000.0: 16.4}
DLPF_BANDWIDTHS_HZ = (260.0, 184.0, 94.0, 44.0, 21.0, 10.0, 5.0)   # the chip's low-pass settings


@dataclass(frozen=True)
class ImuSettings:
    """How the chip is configured and how good the host's clock is."""

    rate_hz: float
    accel_range_g: float = 2.0
    gyro_range_dps: float = 250.0
    accel_noise_g_per_rthz: float = 400e-6
    gyro_noise_dps_per_rthz: float = 0.005
    timestamp_jitter_s: float = 0.0003   # standard deviation of the host's timestamps

    @property
    def dlpf_hz(self) -> float:
        """The low-pass setting a sensible driver picks: the widest one below half the sample rate."""
        return next((bw for bw in DLPF_BANDWIDTHS_HZ if bw <= 0.5 * self.rate_hz), DLPF_BANDWIDTHS_HZ[-1])

    @property
    def accel_lsb_g(self) -> float:
        return 1.0 / ACCEL_LSB_PER_G[self.accel_range_g]

    @property
    def gyro_lsb_dps(self) -> float:
        return 1.0 / GYRO_LSB_PER_DPS[self.gyro_range_dps]


@dataclass(frozen=True)
class ImuErrors:
    """One chip's own imperfections, fixed for a session."""

    accel_bias_g: tuple[float, float, float]
    gyro_bias_dps: tuple[float, float, float]
    gyro_drift_dps_per_rts: float              # random-walk strength of the gyro bias
    accel_gain: tuple[tuple[float, ...], ...]  # 3x3: scale error on the diagonal, cross-axis off it
    gyro_gain: tuple[tuple[float, ...], ...]
    clock_error: float                         # fractional error of the chip's sample clock

    def as_dict(self) -> dict:
        return {"accel_bias_g": list(self.accel_bias_g), "gyro_bias_dps": list(self.gyro_bias_dps),
                "gyro_drift_dps_per_rts": self.gyro_drift_dps_per_rts,
                "accel_gain": [list(r) for r in self.accel_gain],
                "gyro_gain": [list(r) for r in self.gyro_gain], "clock_error": self.clock_error}


def ideal_errors() -> ImuErrors:
    """A perfect chip: for tests of the physics."""
    eye = tuple(tuple(float(x) for x in row) for row in np.eye(3))
    return ImuErrors((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0, eye, eye, 0.0)


def _gain(rng: np.random.Generator, scale: float, cross: float) -> tuple[tuple[float, ...], ...]:
    m = np.diag(1.0 + rng.uniform(-scale, scale, 3))
    off = rng.uniform(-cross, cross, (3, 3))
    np.fill_diagonal(off, 0.0)
    return tuple(tuple(float(x) for x in row) for row in m + off)


def random_errors(rng: np.random.Generator) -> ImuErrors:
    """A chip drawn from the datasheet's tolerances."""
    return ImuErrors(
        accel_bias_g=tuple(float(x) for x in rng.uniform(-0.06, 0.06, 3)),
        gyro_bias_dps=tuple(float(x) for x in rng.uniform(-3.0, 3.0, 3)),
        gyro_drift_dps_per_rts=float(rng.uniform(0.002, 0.02)),
        accel_gain=_gain(rng, 0.03, 0.02),
        gyro_gain=_gain(rng, 0.03, 0.02),
        clock_error=float(rng.uniform(-0.01, 0.01)),
    )


@dataclass(frozen=True)
class Samples:
    """Rows as the host would record them (``t_s`` strictly increasing, gaps where rows were lost)."""

    t_s: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray


def dlpf_kernel(bandwidth_hz: float, dt_s: float) -> np.ndarray:
    """Causal impulse response of the chip's low-pass, sampled every ``dt_s``, summing to 1.

    Two equal real poles (t/τ² e^(−t/τ)), −3 dB at ``bandwidth_hz``; its delay, about 2τ, is close
    to the datasheet's (4.7 ms against 4.9 ms at 44 Hz).
    """
    tau_s = 0.6436 / (2.0 * np.pi * bandwidth_hz)
    t = np.arange(int(np.ceil(30.0 * tau_s / dt_s)) + 1) * dt_s
    h = t / tau_s ** 2 * np.exp(-t / tau_s)
    return h / h.sum()


def low_passed(x: np.ndarray, bandwidth_hz: float, dt_s: float) -> np.ndarray:
    """Each column of ``x`` (on a uniform grid) through the chip's low-pass, at rest before the start."""
    h = dlpf_kernel(bandwidth_hz, dt_s)
    out = np.empty_like(x)
    for i in range(x.shape[1]):
        padded = np.concatenate([np.full(len(h), x[0, i]), x[:, i]])
        out[:, i] = np.convolve(padded, h)[len(h):len(h) + len(x)]
    return out


def quantised(x: np.ndarray, lsb: float) -> np.ndarray:
    """Round to the chip's 16-bit counts, saturating at the ends of the range."""
    counts = np.clip(np.round(x / lsb), -32768, 32767)
    return counts * lsb


def sampled(motion: SensorMotion, settings: ImuSettings, errors: ImuErrors,
            rng: np.random.Generator, lost_spans_s: list[tuple[float, float]] = (),
            ideal: bool = False) -> Samples:
    """The recorded rows: low-passed, picked at the output rate, mis-scaled, biased, noisy,
    quantised, time-stamped with jitter, with rows lost.

    The chip filters its internal stream and the sample-rate divider picks every n-th value, so
    what is between samples is not averaged away, only low-passed. With ``ideal`` only the
    filtering and picking happen (no noise, no quantisation, no jitter), so tests can compare
    against the physics.
    """
    period_s = (1.0 + errors.clock_error) / settings.rate_hz
    first_s = motion.t_s[0] + period_s
    n = int(np.floor((motion.t_s[-1] - first_s) / period_s)) + 1
    true_t_s = first_s + period_s * np.arange(n)
    dt_s = float(motion.t_s[1] - motion.t_s[0])
    filtered = low_passed(np.hstack([motion.accel_g, motion.gyro_dps]), settings.dlpf_hz, dt_s)
    picked = np.stack([np.interp(true_t_s, motion.t_s, filtered[:, i]) for i in range(6)], -1)
    accel_g, gyro_dps = picked[:, :3], picked[:, 3:]
    if not ideal:
        accel_g = accel_g @ np.array(errors.accel_gain).T + np.array(errors.accel_bias_g)
        drift = np.cumsum(rng.normal(0.0, errors.gyro_drift_dps_per_rts * np.sqrt(period_s), (n, 3)), axis=0)
        gyro_dps = gyro_dps @ np.array(errors.gyro_gain).T + np.array(errors.gyro_bias_dps) + drift
        root_bw = np.sqrt(settings.dlpf_hz)
        accel_g = accel_g + rng.normal(0.0, settings.accel_noise_g_per_rthz * root_bw, (n, 3))
        gyro_dps = gyro_dps + rng.normal(0.0, settings.gyro_noise_dps_per_rthz * root_bw, (n, 3))
        accel_g = quantised(accel_g, settings.accel_lsb_g)
        gyro_dps = quantised(gyro_dps, settings.gyro_lsb_dps)
        jitter_s = np.clip(rng.normal(0.0, settings.timestamp_jitter_s, n), -0.2 * period_s, 0.2 * period_s)
        t_s = true_t_s + jitter_s
    else:
        t_s = true_t_s
    keep = np.ones(n, dtype=bool)
    for start_s, end_s in lost_spans_s:
        keep &= ~((true_t_s >= start_s) & (true_t_s < end_s))
    return Samples(t_s[keep], accel_g[keep], gyro_dps[keep])
