"""The simulator against physics and against its own plan, never against a rep counter."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from backrep.recording import read_labels, read_recording
from backrep.simulator import (CONFOUNDERS, EXERCISES, Choreographer, ImuSettings, Knock, Mounting, Person,
                               SessionSpec, ideal_errors, random_errors, random_mounting, random_person,
                               sampled, sensor_motion, sensor_pose, simulated_session)
from backrep.simulator.body import STANDARD_GRAVITY_M_S2
from backrep.simulator.imu import ACCEL_LSB_PER_G, GYRO_LSB_PER_DPS, dlpf_kernel
from backrep.simulator.library import DEMOS, LIBRARY, labels_json, write_session
from backrep.simulator.sessions import grid_hz_for

ROOT = Path(__file__).resolve().parent.parent
GRID_HZ = 1000.0


def quiet_person(**changes) -> Person:
    """A person with no breathing and, unless asked, no tremor or coupled abduction/rotation."""
    p = random_person(np.random.default_rng(0), "typical", "quiet")
    base = dict(breathing_deg=0.0, tremor_deg=0.0, sway_deg=0.0, abduction_per_deg=0.0, axial_per_deg=0.0)
    return dataclasses.replace(p, **{**base, **changes})


def mountings(n: int) -> list[tuple[Mounting, str]]:
    rng = np.random.default_rng(42)
    out = []
    for i in range(n):
        side = "left" if i % 2 else "right"
        out.append((random_mounting(rng, "front" if i % 3 else "side", side), side))
    return out


def move_plan(from_deg: float, to_deg: float, move_s: float, still_s: float = 1.0):
    c = Choreographer(from_deg)
    c.still(still_s)
    move = c.move(to_deg, move_s)
    c.still(still_s)
    return c.plan, move


# --------------------------------------------------------------------------- physics


@pytest.mark.parametrize("mounting,side", mountings(8))
def test_a_still_sensor_reads_one_g_and_no_rotation_in_any_mounting(mounting, side):
    c = Choreographer(37.0)
    c.still(1.0)
    motion = sensor_motion(c.plan, quiet_person(), mounting, side, GRID_HZ)
    samples = sampled(motion, ImuSettings(100.0), ideal_errors(), np.random.default_rng(1), ideal=True)
    np.testing.assert_allclose(np.linalg.norm(samples.accel_g, axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(samples.gyro_dps, 0.0, atol=1e-9)


@pytest.mark.parametrize("mounting,side", mountings(6))
@pytest.mark.parametrize("angle_deg", [-20.0, 0.0, 45.0, 110.0])
def test_gravity_in_sensor_axes_gives_the_planned_inclination(mounting, side, angle_deg):
    c = Choreographer(angle_deg)
    c.still(0.5)
    person = quiet_person(abduction_per_deg=0.08, axial_per_deg=-0.1)  # the thigh also splays and rolls
    motion = sensor_motion(c.plan, person, mounting, side, GRID_HZ)
    gravity_dir = motion.accel_g[len(motion.t_s) // 2]
    # The thigh's long axis is vertical-component sin(inclination), whatever abduction and roll do.
    np.testing.assert_allclose(gravity_dir @ mounting.thigh_axis_in_sensor(), np.sin(np.radians(angle_deg)),
                               atol=1e-9)


def integrated_rotation(gyro_dps: np.ndarray, dt_s: float) -> np.ndarray:
    """Orientation change from body rates, midpoint rule on rotation matrices."""
    r = np.eye(3)
    mid = 0.5 * (gyro_dps[1:] + gyro_dps[:-1])
    for w in np.radians(mid) * dt_s:
        angle = np.linalg.norm(w)
        if angle:
            k = w / angle
            kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
            r = r @ (np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx)
    return r


@pytest.mark.parametrize("mounting,side", mountings(4))
def test_integrated_rate_rotates_gravity_onto_the_final_specific_force(mounting, side):
    plan, _ = move_plan(5.0, 95.0, 3.0)
    person = quiet_person(abduction_per_deg=0.07, axial_per_deg=0.1)
    motion = sensor_motion(plan, person, mounting, side, GRID_HZ)
    turn = integrated_rotation(motion.gyro_dps, 1.0 / GRID_HZ)
    predicted_end = turn.T @ motion.accel_g[0]
    angle_err_deg = np.degrees(np.arccos(np.clip(predicted_end @ motion.accel_g[-1], -1, 1)))
    assert angle_err_deg < 0.05
    # The move is 90°: a sign error (left-handed rates) would land nowhere near.
    assert np.degrees(np.arccos(motion.accel_g[0] @ motion.accel_g[-1])) > 80.0


def test_a_slow_move_reads_gravity_only_and_a_fast_one_adds_centripetal_and_tangential():
    mounting = dataclasses.replace(random_mounting(np.random.default_rng(3), "front", "right"), around_deg=0.0)
    person = quiet_person()
    excess = {}
    for move_s in (8.0, 1.0):
        plan, move = move_plan(0.0, 90.0, move_s)
        motion = sensor_motion(plan, person, mounting, "right", GRID_HZ)
        excess[move_s] = np.abs(np.linalg.norm(motion.accel_g, axis=1) - 1.0).max()
    assert excess[8.0] < 0.01
    assert excess[1.0] > 0.1

    # At the middle of the fast move velocity peaks and tangential acceleration is zero: what is
    # left beside gravity is centripetal, ω² r toward the hip.
    plan, move = move_plan(0.0, 90.0, 1.0)
    pose = sensor_pose(plan, person, mounting, "right", GRID_HZ)
    motion = sensor_motion(plan, person, mounting, "right", GRID_HZ)
    i = int(round(0.5 * (move.start_s + move.end_s) * GRID_HZ))
    omega_rad_s = np.radians(1.875 * 90.0 / 1.0)   # peak speed of a minimum-jerk move
    r_m = np.hypot(mounting.along_frac * person.thigh_length_m, mounting.offset_m)
    kinematic_m_s2 = pose.rotation[i] @ motion.accel_g[i] * STANDARD_GRAVITY_M_S2 - [0, 0, STANDARD_GRAVITY_M_S2]
    assert np.linalg.norm(kinematic_m_s2) == pytest.approx(omega_rad_s ** 2 * r_m, rel=0.01)
    toward_hip = -pose.position_m[i] / np.linalg.norm(pose.position_m[i])   # the hip is the origin
    assert kinematic_m_s2 @ toward_hip / np.linalg.norm(kinematic_m_s2) > 0.999

    # Where a minimum-jerk move accelerates hardest (τ = 1/2 − √3/6) the tangential term α r
    # joins the centripetal one: |a| = r √(α² + ω⁴).
    tau = 0.5 - np.sqrt(3.0) / 6.0
    j = int(round((move.start_s + tau * 1.0) * GRID_HZ))
    span_rad = np.radians(90.0)
    alpha = span_rad * (60 * tau - 180 * tau ** 2 + 120 * tau ** 3)
    omega = span_rad * (30 * tau ** 2 - 60 * tau ** 3 + 30 * tau ** 4)
    kinematic_m_s2 = pose.rotation[j] @ motion.accel_g[j] * STANDARD_GRAVITY_M_S2 - [0, 0, STANDARD_GRAVITY_M_S2]
    assert np.linalg.norm(kinematic_m_s2) == pytest.approx(r_m * np.hypot(alpha, omega ** 2), rel=0.01)


def test_strap_slip_turns_gravity_in_the_sensor_but_not_the_inclination():
    mounting, side = mountings(1)[0]
    c = Choreographer(30.0)
    c.still(0.5)
    c.slip_strap(60.0, 1.0)
    c.still(0.5)
    motion = sensor_motion(c.plan, quiet_person(), mounting, side, GRID_HZ)
    before, after = motion.accel_g[10], motion.accel_g[-10]
    assert np.degrees(np.arccos(np.clip(before @ after, -1, 1))) > 20.0
    axis = mounting.thigh_axis_in_sensor()
    assert before @ axis == pytest.approx(after @ axis, abs=1e-9)


# --------------------------------------------------------------------------- the chip


def test_a_knock_on_the_bed_shakes_the_sensor_along_the_vertical():
    c = Choreographer(50.0)
    c.still(1.0)
    c.knock(Knock(0.5, 0.03, 2.0, 0.0, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0), frame="world"))
    mounting, side = mountings(1)[0]
    motion = sensor_motion(c.plan, quiet_person(), mounting, side, GRID_HZ)
    gravity = motion.accel_g[0]
    extra = motion.accel_g - gravity
    peak = np.abs(extra).max(axis=1).argmax()
    # All of the extra force is along gravity's direction, and it peaks at the planned 2 g.
    assert np.linalg.norm(np.cross(extra[peak], gravity)) < 1e-9
    assert np.linalg.norm(extra[peak]) == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize("accel_range_g,gyro_range_dps", [(2.0, 250.0), (4.0, 500.0)])
def test_outputs_are_whole_lsbs_of_the_range_and_saturate(accel_range_g, gyro_range_dps):
    spec = SessionSpec("q", "heel_slide", 11, rate_hz=200, reps=2, confounders=("knock",),
                       accel_range_g=accel_range_g, gyro_range_dps=gyro_range_dps)
    samples = simulated_session(spec).samples
    accel_counts = samples.accel_g * ACCEL_LSB_PER_G[accel_range_g]
    gyro_counts = samples.gyro_dps * GYRO_LSB_PER_DPS[gyro_range_dps]
    np.testing.assert_allclose(accel_counts, np.round(accel_counts), atol=1e-6)
    np.testing.assert_allclose(gyro_counts, np.round(gyro_counts), atol=1e-6)
    steps = np.diff(np.unique(samples.accel_g[:, 0]))
    assert steps.min() == pytest.approx(1.0 / ACCEL_LSB_PER_G[accel_range_g])
    assert accel_counts.max() <= 32767 and accel_counts.min() >= -32768


def test_a_knock_beyond_the_range_saturates_at_full_scale():
    c = Choreographer(0.0)
    c.still(1.0)
    c.knock(Knock(0.5, 0.04, 4.0, 100.0, (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)))
    motion = sensor_motion(c.plan, quiet_person(), mountings(1)[0][0], "right", 4000.0)
    samples = sampled(motion, ImuSettings(1000.0, accel_range_g=2.0), ideal_errors(),
                      np.random.default_rng(0))
    assert np.abs(samples.accel_g).max() == pytest.approx(32768 / 16384.0)


def test_noise_at_rest_matches_the_datasheet_density():
    c = Choreographer(10.0)
    c.still(20.0)
    motion = sensor_motion(c.plan, quiet_person(), mountings(1)[0][0], "right", GRID_HZ)
    settings = ImuSettings(100.0)
    samples = sampled(motion, settings, ideal_errors(), np.random.default_rng(5))
    expected_g = 400e-6 * np.sqrt(44.0)   # density × √bandwidth, the 44 Hz setting at 100 Hz
    assert settings.dlpf_hz == 44.0
    assert samples.accel_g.std(axis=0) == pytest.approx([expected_g] * 3, rel=0.15)


@pytest.mark.parametrize("rate_hz,dlpf_hz", [(25, 10), (50, 21), (100, 44), (200, 94), (1000, 260)])
def test_the_low_pass_is_below_half_the_rate_and_is_minus_3_db_at_its_setting(rate_hz, dlpf_hz):
    assert ImuSettings(rate_hz).dlpf_hz == dlpf_hz
    dt_s = 1.0 / grid_hz_for(rate_hz)
    h = dlpf_kernel(dlpf_hz, dt_s)
    k = np.arange(len(h))
    gain = abs(np.sum(h * np.exp(-2j * np.pi * dlpf_hz * k * dt_s)))
    assert gain == pytest.approx(1 / np.sqrt(2), abs=0.01)
    assert h.sum() == pytest.approx(1.0)


def test_the_chip_reads_a_ramp_late_by_the_filter_delay_only():
    """A steady turn reads its true rate after the filter settles; the output does not smear it further."""
    c = Choreographer(0.0)
    c.still(0.5)
    c.move(60.0, 3.0)
    c.still(0.5)
    motion = sensor_motion(c.plan, quiet_person(), mountings(1)[0][0], "right", GRID_HZ)
    samples = sampled(motion, ImuSettings(100.0), ideal_errors(), np.random.default_rng(0), ideal=True)
    true_rate = np.interp(samples.t_s, motion.t_s, np.linalg.norm(motion.gyro_dps, axis=1))
    read_rate = np.linalg.norm(samples.gyro_dps, axis=1)
    lag_s = 2 * 0.6436 / (2 * np.pi * 44.0)
    late_rate = np.interp(samples.t_s - lag_s, motion.t_s, np.linalg.norm(motion.gyro_dps, axis=1))
    assert np.abs(read_rate - late_rate).max() < 0.01 * true_rate.max()
    assert np.abs(read_rate - true_rate).max() > np.abs(read_rate - late_rate).max()


def test_biases_from_the_datasheet_tolerances():
    errors = [random_errors(np.random.default_rng(i)) for i in range(50)]
    accel_bias = np.array([e.accel_bias_g for e in errors])
    gyro_bias = np.array([e.gyro_bias_dps for e in errors])
    assert np.abs(accel_bias).max() <= 0.06 and np.abs(gyro_bias).max() <= 3.0
    assert np.abs(accel_bias).max() > 0.03   # not all tiny
    gains = np.array([e.accel_gain for e in errors])
    assert np.abs(np.diagonal(gains, axis1=1, axis2=2) - 1).max() <= 0.03
    assert np.abs(gains[:, 0, 1]).max() <= 0.02


# --------------------------------------------------------------------------- sessions and labels


@pytest.mark.parametrize("exercise", EXERCISES)
def test_labels_agree_with_the_plan(exercise):
    spec = SessionSpec("l", exercise, 21, rate_hz=50, confounders=("abandoned", "slip", "shift"))
    session = simulated_session(spec)
    labels = session.labels()
    reps = spec.reps or {"heel_slide": 10, "pelvic_tilt": 8, "knee_to_chest": 5, "hip_flexor": 4}[exercise]
    assert labels["reps"] == reps == len(labels["rep_spans"])
    assert labels["exercise"] == exercise and labels["source"] == "simulated"
    starts = [s for s, _ in labels["rep_spans"]]
    assert starts == sorted(starts)
    assert all(e0 < s1 for (_, e0), (s1, _) in zip(labels["rep_spans"], labels["rep_spans"][1:]))
    held = exercise in ("knee_to_chest", "hip_flexor")
    assert len(labels["holds_s"]) == len(labels["hold_spans"]) == (reps if held else 0)
    for hold_s, (start, end), (rep_start, rep_end) in zip(labels["holds_s"], labels["hold_spans"],
                                                          labels["rep_spans"]):
        assert hold_s == pytest.approx(end - start, abs=2e-3)
        assert rep_start < start < end < rep_end
        assert 15.0 <= hold_s <= 25.0
        # During a hold the thigh stays at the far end (tremor and sway of about a degree).
        inside = (session.motion.t_s >= start) & (session.motion.t_s <= end)
        flexion = session.motion.flexion_deg[inside]
        assert 0.1 < flexion.max() - flexion.min() < 3.0
    # Every rep leaves the rest pose by at least the exercise's smallest excursion and comes back.
    for start, end in labels["rep_spans"]:
        inside = (session.motion.t_s >= start) & (session.motion.t_s <= end)
        flexion = session.motion.flexion_deg[inside]
        excursion = np.abs(flexion - flexion[0]).max()
        assert excursion >= 2.5
        assert abs(flexion[-1] - flexion[0]) < 1.5
    # An abandoned start goes well short of the usual range.
    for event in labels["events"]:
        if event["kind"] == "abandoned":
            assert 0.15 <= event["fraction_of_range"] <= 0.35


@pytest.mark.parametrize("exercise", EXERCISES)
def test_confounder_movements_fall_outside_every_labelled_rep(exercise):
    spec = SessionSpec("c", exercise, 22, rate_hz=25, confounders=CONFOUNDERS)
    labels = simulated_session(spec).labels()
    kinds = {e["kind"] for e in labels["events"]}
    assert {"abandoned", "slip", "shift", "other_leg", "exit", "knock"} <= kinds
    for event in labels["events"]:
        if "end_s" not in event:
            continue
        for start, end in labels["rep_spans"]:
            assert event["end_s"] <= start or event["start_s"] >= end, (event, start, end)


def test_lost_samples_appear_as_gaps_in_t_s():
    spec = SessionSpec("g", "heel_slide", 31, rate_hz=100, reps=4, confounders=("lost",))
    session = simulated_session(spec)
    steps = np.diff(session.samples.t_s)
    gaps = steps[steps > 1.5 / spec.rate_hz]
    lost = session.lost_spans_s
    assert len(gaps) == len(lost) >= 2
    for gap_s, (a, b) in zip(gaps, lost):
        assert gap_s == pytest.approx(b - a, abs=2.5 / spec.rate_hz)
    assert (steps > 0).all()


def test_without_lost_samples_there_are_no_gaps_and_steps_jitter_around_the_period():
    session = simulated_session(SessionSpec("n", "pelvic_tilt", 32, rate_hz=50, reps=2))
    steps = np.diff(session.samples.t_s)
    assert steps.max() < 1.5 / 50 and steps.min() > 0.5 / 50
    assert steps.std() > 0   # jittered, not a perfect clock


def test_same_seed_same_output_and_another_seed_differs():
    spec = SessionSpec("s", "knee_to_chest", 41, rate_hz=25, reps=1, confounders=("knock", "lost"))
    a, b = simulated_session(spec), simulated_session(spec)
    np.testing.assert_array_equal(a.samples.t_s, b.samples.t_s)
    np.testing.assert_array_equal(a.samples.accel_g, b.samples.accel_g)
    np.testing.assert_array_equal(a.samples.gyro_dps, b.samples.gyro_dps)
    assert labels_json(a) == labels_json(b)
    c = simulated_session(dataclasses.replace(spec, seed=42))
    assert labels_json(c) != labels_json(a)


@pytest.mark.parametrize("profile", ["raised_cosine", "trapezoid"])
def test_another_movement_profile_changes_how_moves_unfold_but_not_what_is_labelled(profile):
    spec = SessionSpec("p", "knee_to_chest", 43, rate_hz=50, reps=2)
    usual = simulated_session(spec)
    other = simulated_session(dataclasses.replace(spec, movement_profile=profile))
    assert other.labels()["rep_spans"] == usual.labels()["rep_spans"]
    assert other.labels()["hold_spans"] == usual.labels()["hold_spans"]
    assert other.labels()["movement_profile"] == profile and "movement_profile" not in usual.labels()
    # Same start and end of every move, another path between: the planned angle differs
    # mid-move, and nowhere else.
    t_s = usual.motion.t_s
    gap_deg = np.abs(other.motion.flexion_deg - usual.motion.flexion_deg)
    first = usual.labels()["rep_spans"][0]
    moving = (t_s > first[0]) & (t_s < first[0] + 0.5)
    assert gap_deg[moving].max() > 0.5
    assert gap_deg[t_s < first[0]].max() < 1e-9
    with pytest.raises(ValueError, match="movement profile"):
        SessionSpec("p", "knee_to_chest", 43, movement_profile="jerky")


def test_the_internal_grid_is_finer_than_the_output_rate():
    for rate_hz in (25, 50, 100, 200, 1000):
        assert grid_hz_for(rate_hz) >= 4 * rate_hz


# --------------------------------------------------------------------------- the committed library


def test_the_library_covers_exercises_rates_and_every_confounder_twice():
    assert 28 <= len(LIBRARY) <= 36
    assert {s.exercise for s in LIBRARY} == set(EXERCISES)
    assert {s.rate_hz for s in LIBRARY} >= {25, 50, 100, 200, 1000}
    assert {s.place for s in LIBRARY} == {"front", "side"}
    for kind in CONFOUNDERS:
        assert sum(kind in s.confounders for s in LIBRARY) >= 2, kind
    assert len({s.seed for s in LIBRARY + DEMOS}) == len(LIBRARY) + len(DEMOS)


def test_the_committed_files_are_exactly_the_library_and_the_demos():
    assert {p.stem for p in (ROOT / "recordings").glob("*.csv")} == {s.name for s in LIBRARY}
    assert {p.stem for p in (ROOT / "recordings").glob("*.json")} == {s.name for s in LIBRARY}
    assert {p.stem for p in (ROOT / "backrep" / "demo").glob("*.csv")} == set(EXERCISES) == {s.name for s in DEMOS}
    total_mb = sum(p.stat().st_size for p in (ROOT / "recordings").iterdir()) / 1e6
    assert total_mb < 40


def test_regenerating_a_committed_recording_gives_the_same_bytes(tmp_path):
    spec = next(s for s in LIBRARY if s.name == "pelvic_tilt-07-stiff-hard")
    write_session(simulated_session(spec), tmp_path / f"{spec.name}.csv")
    for suffix in (".csv", ".json"):
        committed = (ROOT / "recordings" / f"{spec.name}{suffix}").read_bytes()
        assert (tmp_path / f"{spec.name}{suffix}").read_bytes() == committed


@pytest.mark.parametrize("csv_path", [ROOT / "recordings" / f"{s.name}.csv" for s in LIBRARY]
                         + [ROOT / "backrep" / "demo" / f"{s.name}.csv" for s in DEMOS],
                         ids=lambda p: p.stem)
def test_every_committed_recording_reads_back_with_its_labels(csv_path):
    recording = read_recording(csv_path)
    labels = read_labels(csv_path)
    assert labels is not None and labels.source == "simulated"
    assert labels.reps == len(labels.rep_spans)
    assert float(recording.metadata["rate_hz"]) == labels.extra["rate_hz"]
    assert recording.t_s[0] <= labels.rep_spans[0][0] and labels.rep_spans[-1][1] <= recording.t_s[-1]
    assert np.median(np.linalg.norm(recording.accel_g, axis=1)) == pytest.approx(1.0, abs=0.1)
