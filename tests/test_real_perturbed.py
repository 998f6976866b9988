"""``benchmarks/real_perturbed.py``: its changed copies are recordings another sensor could make,
and the counter still counts one of them exactly."""
from __future__ import annotations

import numpy as np
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
