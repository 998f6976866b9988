"""``benchmarks/real_perturbed.py``: its changed copies are recordings another sensor could make,
and the counter still counts one of them exactly."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backrep.recording import read_recording
from tests.benchmark_scripts import benchmark_script
from tests.labelled import REAL_DIR

real_perturbed = benchmark_script("real_perturbed")
SET = read_recording(REAL_DIR / "uci-s1-e1-correct.csv")


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_changed_copy_keeps_gravity_and_time_running_forward(seed):
    rng = np.random.default_rng(seed)
    t, a, g, done = real_perturbed.perturbed(SET.t_s, SET.accel_g, SET.gyro_dps, rng)
    assert np.all(np.diff(t) > 0), done
    assert t[0] >= SET.t_s[0] and t[-1] <= SET.t_s[-1], done
    # turning the sensor and adding 4 mg of noise leaves what it reads of gravity alone
    assert abs(np.median(np.linalg.norm(a, axis=1)) - np.median(np.linalg.norm(SET.accel_g, axis=1))) < 0.01
    # at most a second late, and a few runs of at most 11 samples lost (one may take the first
    # or the last samples): the set is still there
    run_s = 11 * np.median(np.diff(SET.t_s))
    assert t[-1] - t[0] > SET.t_s[-1] - SET.t_s[0] - 1.0 - 2 * run_s, done
    assert len(t) > 0.9 * (t[-1] - t[0]) / np.median(np.diff(t)), done


def test_a_changed_copy_of_a_real_set_is_counted_exactly():
    rng = np.random.default_rng(7)
    for _ in range(3):
        t, a, g, done = real_perturbed.perturbed(SET.t_s, SET.accel_g, SET.gyro_dps, rng)
        assert real_perturbed.reps_counted(t, a, g) == 10, done


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(0.5, 2.0), start=st.integers(0, len(SET.t_s) - 200))
def test_a_copy_over_another_range_turns_every_reading_that_much_further_from_the_rest(scale, start):
    a, g = SET.accel_g, SET.gyro_dps
    scaled_a, scaled_g = real_perturbed.range_scaled(a, g, scale)
    rest = a[:10].mean(axis=0) / np.linalg.norm(a[:10].mean(axis=0))
    part = slice(start, start + 200)

    def turned_deg(x):
        return np.degrees(np.arccos(np.clip((x[part] / np.linalg.norm(x[part], axis=1, keepdims=True)) @ rest,
                                            -1.0, 1.0)))

    np.testing.assert_allclose(turned_deg(scaled_a), scale * turned_deg(a), atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(scaled_a, axis=1), np.linalg.norm(a, axis=1))
    bias = g[:10].mean(axis=0)
    np.testing.assert_allclose(scaled_g[part] - bias, scale * (g[part] - bias), atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_copy_made_by_another_person_runs_at_their_pace_at_the_set_s_own_rate(seed):
    rng = np.random.default_rng(seed)
    t, a, g, done = real_perturbed.person_varied(SET.t_s, SET.accel_g, SET.gyro_dps, rng)
    speed = float(done.split("x as fast")[0])
    assert t[-1] - t[0] == pytest.approx((SET.t_s[-1] - SET.t_s[0]) / speed, rel=0.01), done  # (speed shown to 2 places)
    assert np.median(np.diff(t)) == pytest.approx(np.median(np.diff(SET.t_s))), done
    assert np.all(np.diff(t) > 0) and len(a) == len(g) == len(t), done
