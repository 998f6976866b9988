"""The counter on sets from a second generator, scaled down: ``benchmarks/counter_stress.py``.

The labelled library and `counter_generalisation.py` come from the simulator the counter was
developed beside. These sets come from the bare trace model with a choreography of their own
(reps back to back, rests of a fraction of a second, uneven reps), one fault pushed at a time;
each condition here was once a fault the counter had (a hold let go early went uncounted, a
sagging hold ended early, a noisy fast sensor never found its reference pose) or is a way the
hardware can differ. The benchmark runs them in full; here one set of each kind and exercise.
"""
from __future__ import annotations

import pytest

from tests.benchmark_scripts import benchmark_script

counter_stress = benchmark_script("counter_stress")

#: The conditions every set of which counts right; the benchmark's others are known to be short
#: (docs/counter.md, "A second generator").
HELD_TO = ("plain", "let_go", "sag", "noisy_fast", "noisy_slow", "lost", "jitter", "offsets", "coarse", "hinge",
           "near_knee", "slow")


@pytest.mark.parametrize("name", HELD_TO)
def test_every_set_of_the_second_generator_counts_right(name):
    cond = next(c for c in counter_stress.CONDITIONS if c.name == name)
    assert counter_stress.misses_under(cond, counter_stress.draws(seed=3, per=1)) == []
