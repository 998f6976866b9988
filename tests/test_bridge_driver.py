"""The drivers at register level, against the emulated chips on a simulated clock.

Every test runs the real driver and stream unchanged over an ``EmulatedBus``; the marker trace
carries each sample's number in the accelerometer's x axis, so a duplicated, skipped or
invented sample cannot go unseen.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_bridge import (ConfigurationError, EmulatedBus, SensorNotFoundError, SimulatedClock,
                             StreamGroup, StreamSettings, Trace, UnsupportedSensorError, emulated_bus_from_recording,
                             emulated_chip, marker_numbers, marker_trace, open_stream, synthetic_trace)
from firmware_bridge import lsm6ds as L
from firmware_bridge import mpu6050 as M

NO_CALIBRATION = StreamSettings(calibrate=False)
# accelerometer g per count at the default ±4 g
PER_LSB = {"mpu6050": 1 / 8192, "mpu6500": 1 / 8192, "mpu9250": 1 / 8192,
           "lsm6dsox": 0.122e-3, "lsm6ds3": 0.122e-3}
CHIP_RATE_HZ = {"mpu6050": 100.0, "mpu6500": 100.0, "mpu9250": 100.0, "lsm6dsox": 104.0, "lsm6ds3": 104.0}


def collect(stream, clock, until_s, timeout_s=1.0):
    """Read until the clock passes ``until_s``; the batches joined, and the lost count."""
    t, accel, gyro, lost, batches = [], [], [], 0, 0
    while clock.monotonic() < until_s:
        batch = stream.read(timeout_s=timeout_s)
        if batch is None:
            continue
        batches += 1
        t.append(batch.t_s)
        accel.append(batch.accel_g)
        gyro.append(batch.gyro_dps)
        lost += batch.lost_samples
    return np.concatenate(t), np.concatenate(accel), np.concatenate(gyro), lost, batches


def quantised(values, per_lsb):
    return np.clip(np.round(values / per_lsb), -32768, 32767) * per_lsb


@pytest.mark.parametrize("chip", ["mpu6050", "mpu6500", "mpu9250", "lsm6dsox", "lsm6ds3"])
def test_each_family_and_sibling_is_identified_by_who_am_i(chip):
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(5), chip=chip, clock=clock)
    with open_stream(bus, clock=clock, settings=NO_CALIBRATION) as stream:
        assert stream.status.sensor == chip
        assert stream.status.address == (0x68 if chip.startswith("mpu") else 0x6A)


def test_probing_finds_a_sensor_with_ad0_high_at_0x69():
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(5), address=0x69, clock=clock)
    with open_stream(bus, clock=clock, settings=NO_CALIBRATION) as stream:
        assert stream.status.address == 0x69


def test_an_unknown_chip_is_refused_naming_bus_address_and_what_it_said():
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(5), clock=clock)
    chip = bus.chips[0x68]
    chip.WHO_AM_I = {"mpu6050": 0x12}   # an impostor, as on some clone boards
    chip.power_on()
    with pytest.raises(UnsupportedSensorError) as err:
        open_stream(bus, clock=clock)
    assert isinstance(err.value, ValueError)
    assert "0x68" in str(err.value) and "0x12" in str(err.value) and "emulated" in str(err.value)


@pytest.mark.parametrize("who_am_i", [0x72, 0x73, 0x98])
def test_look_alike_chips_sold_as_mpu6050s_are_read(who_am_i):
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(5), clock=clock)
    chip = bus.chips[0x68]
    chip.WHO_AM_I = {"mpu6050": who_am_i}   # what GY-521 boards with other dies answer
    chip.power_on()
    with open_stream(bus, clock=clock, settings=NO_CALIBRATION) as stream:
        assert stream.read(1.0) is not None


def test_nothing_on_the_bus_is_a_lookup_error_that_points_at_doctor():
    with pytest.raises(SensorNotFoundError) as err:
        open_stream(EmulatedBus(SimulatedClock()), clock=SimulatedClock())
    assert isinstance(err.value, LookupError)
    assert "0x68, 0x69, 0x6a, 0x6b" in str(err.value) and "backrep doctor" in str(err.value)


@pytest.mark.parametrize("rate_hz, divider, dlpf", [(50, 19, 4), (100, 9, 3), (200, 4, 2), (1000, 0, 1)])
def test_mpu_registers_are_configured_from_the_register_map(rate_hz, divider, dlpf):
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(3), clock=clock)
    with open_stream(bus, rate_hz=rate_hz, clock=clock, settings=NO_CALIBRATION) as stream:
        regs = bus.chips[0x68].regs
        assert regs[M.PWR_MGMT_1] == M.PWR_MGMT_1_CLKSEL_PLL_XGYRO      # awake, gyro PLL clock
        assert regs[M.SMPLRT_DIV] == divider
        assert regs[M.CONFIG] & 0b111 == dlpf
        assert regs[M.GYRO_CONFIG] == 1 << 3 and regs[M.ACCEL_CONFIG] == 1 << 3   # ±500 °/s, ±4 g
        assert regs[M.FIFO_EN] == 0x78 and regs[M.USER_CTRL] & M.USER_CTRL_FIFO_EN
        assert regs[M.INT_ENABLE] & M.INT_FIFO_OFLOW
        assert stream.status.rate_hz == rate_hz


def test_lsm_registers_are_configured_and_rates_round_up_to_the_next_odr():
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(3), chip="lsm6dsox", clock=clock)
    with open_stream(bus, rate_hz=100, clock=clock, settings=NO_CALIBRATION) as stream:
        regs = bus.chips[0x6A].regs
        assert regs[L.CTRL1_XL] == 0x4 << 4 | 0b10 << 2        # 104 Hz, ±4 g
        assert regs[L.CTRL2_G] == 0x4 << 4 | 0b01 << 2         # 104 Hz, ±500 °/s
        assert regs[L.DSOX_FIFO_CTRL3] == 0x44 and regs[L.DSOX_FIFO_CTRL4] == L.FIFO_MODE_CONTINUOUS
        assert stream.status.rate_hz == 104.0


@pytest.mark.parametrize("rate_hz", [0, 1, 1500])
def test_a_rate_the_chip_cannot_do_is_refused(rate_hz):
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(3), clock=clock)
    with pytest.raises(ConfigurationError) as err:
        open_stream(bus, rate_hz=rate_hz, clock=clock)
    assert isinstance(err.value, ValueError) and "3.9 to 1000 Hz" in str(err.value)


class SpyBus:
    """Passes everything to an emulated bus and remembers how it was asked."""

    def __init__(self, bus):
        self.bus, self.name, self.clock = bus, bus.name, bus.clock
        self.block_reads, self.rdwr_read_lengths = 0, []

    def read_byte_data(self, *a):
        return self.bus.read_byte_data(*a)

    def write_byte_data(self, *a):
        return self.bus.write_byte_data(*a)

    def read_i2c_block_data(self, *a):
        self.block_reads += 1
        return self.bus.read_i2c_block_data(*a)

    def i2c_rdwr(self, *messages):
        self.rdwr_read_lengths += [m.len for m in messages if m.flags & 1]
        return self.bus.i2c_rdwr(*messages)

    def close(self):
        self.bus.close()


def test_the_fifo_is_drained_in_large_i2c_rdwr_bursts_of_whole_frames():
    clock = SimulatedClock()
    spy = SpyBus(emulated_bus_from_recording(synthetic_trace(6, 1000), clock=clock))
    with open_stream(spy, rate_hz=1000, clock=clock, settings=NO_CALIBRATION) as stream:
        t, *_ = collect(stream, clock, 5.0)
    assert spy.block_reads == 0
    fifo_reads = [n for n in spy.rdwr_read_lengths if n > 2]
    assert fifo_reads and all(n % M.FRAME_BYTES == 0 for n in fifo_reads)
    assert np.mean(fifo_reads) > 32                       # past the SMBus block limit
    assert spy.bus.stats.transactions / len(t) < 0.25     # not a transfer per sample


@pytest.mark.parametrize("chip, rate_hz", [("mpu6050", 100), ("mpu6050", 1000), ("mpu6050", 50),
                                           ("mpu9250", 200), ("lsm6dsox", 104), ("lsm6ds3", 104)])
def test_samples_come_back_to_the_chips_resolution_with_their_own_timestamps(chip, rate_hz):
    per_lsb = PER_LSB[chip]
    trace = marker_trace(8, rate_hz, per_lsb)
    clock = SimulatedClock(start_s=100.0)
    bus = emulated_bus_from_recording(trace, chip=chip, clock=clock)
    with open_stream(bus, rate_hz=rate_hz, clock=clock, settings=NO_CALIBRATION) as stream:
        t_s, accel_g, gyro_dps, lost, _ = collect(stream, clock, 107.5)
    number = marker_numbers(accel_g, per_lsb)
    assert lost == 0
    assert np.all(np.diff(number) == 1)                       # none skipped, none repeated
    assert number[0] <= rate_hz * 0.2                          # from the moment the FIFO started
    gyro_per_lsb = 1 / 65.5 if chip.startswith("mpu") else 17.5e-3
    np.testing.assert_allclose(accel_g, quantised(trace.accel_g[number], per_lsb), atol=1e-12)
    np.testing.assert_allclose(gyro_dps, quantised(trace.gyro_dps[number], gyro_per_lsb), atol=1e-12)
    # each sample stamped at its own moment (trace time on the clock the chip started at); the
    # reads here are phase-locked to the chip, so only half a period of offset is provable
    assert np.abs(t_s - (100.0 + trace.t_s[number])).max() < 0.5 / rate_hz
    assert np.all(np.diff(t_s) > 0.89 / rate_hz) and np.all(np.diff(t_s) < 1.11 / rate_hz)   # nudges ≤ 10 %


def test_timestamps_close_in_on_the_truth_when_reads_land_at_varied_phases():
    # A real host never wakes exactly on time: each sleep overruns by up to 3 ms, differently
    # for each seed. Whatever the draw, every timestamp stays within a third of a period of
    # the truth, and over the draws the worst error is typically under a sixth.
    worst_s = []
    for seed in range(8):
        trace = marker_trace(20, 100, 1 / 8192)
        clock = SimulatedClock(sleep_jitter_s=0.003, seed=seed)
        bus = emulated_bus_from_recording(trace, clock=clock)
        with open_stream(bus, clock=clock, settings=NO_CALIBRATION) as stream:
            t_s, accel_g, _, lost, _ = collect(stream, clock, 19.0)
        number = marker_numbers(accel_g, 1 / 8192)
        assert lost == 0 and np.all(np.diff(number) == 1)
        settled = t_s > 5
        worst_s.append(np.abs(t_s[settled] - trace.t_s[number[settled]]).max())
    assert max(worst_s) < 0.3 / 100
    assert np.median(worst_s) < 0.15 / 100


def test_timestamps_follow_the_chips_own_oscillator_not_the_nominal_rate():
    # the chip is set to 100 Hz but its oscillator runs 2 % fast: the host clock finds that out
    trace = marker_trace(30, 102.0, 1 / 8192, nominal_rate_hz=100.0)
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(trace, clock=clock)
    with open_stream(bus, rate_hz=100, clock=clock, settings=NO_CALIBRATION) as stream:
        t_s, accel_g, _, lost, _ = collect(stream, clock, 29.0)
        assert stream.rate_estimate_hz == pytest.approx(102.0, rel=1e-3)
    number = marker_numbers(accel_g, 1 / 8192)
    assert lost == 0 and np.all(np.diff(number) == 1)
    late = t_s > 10
    assert np.abs(t_s[late] - trace.t_s[number[late]]).max() < 0.5 / 102
    assert np.all(np.diff(t_s) > 0.89 / 102) and np.all(np.diff(t_s) < 1.11 / 100)


@pytest.mark.parametrize("chip", ["mpu6050", "lsm6dsox"])
@pytest.mark.parametrize("accel_range_g, gyro_range_dps", [(2, 250), (4, 500), (8, 1000), (16, 2000)])
def test_counts_convert_to_g_and_degrees_per_second_through_the_range_table(chip, accel_range_g, gyro_range_dps):
    n = 300
    accel = np.tile([0.5, -0.25, 1.0], (n, 1))
    gyro = np.tile([100.0, -50.0, 12.5], (n, 1)) + np.random.default_rng(1).normal(0, 3, (n, 3))
    trace = Trace(np.arange(n) / 100.0, accel, gyro, 100.0, 100.0)
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(trace, chip=chip, clock=clock)
    settings = StreamSettings(calibrate=False, accel_range_g=accel_range_g, gyro_range_dps=gyro_range_dps)
    table = (M if chip == "mpu6050" else L)
    with open_stream(bus, rate_hz=100, clock=clock, settings=settings) as stream:
        _, accel_g, gyro_dps, _, _ = collect(stream, clock, 2.0)
        assert (stream.status.accel_range_g, stream.status.gyro_range_dps) == (accel_range_g, gyro_range_dps)
    accel_lsb = table.ACCEL_RANGES_G[accel_range_g].units_per_lsb
    gyro_lsb = table.GYRO_RANGES_DPS[gyro_range_dps].units_per_lsb
    np.testing.assert_allclose(accel_g, np.tile(quantised(np.array([0.5, -0.25, 1.0]), accel_lsb), (len(accel_g), 1)))
    # degrees per second, not radians: a 100 °/s turn reads about 100, in whole steps of the range
    assert np.abs(gyro_dps.mean(axis=0) - [100, -50, 12.5]).max() < 1.0
    np.testing.assert_allclose(gyro_dps / gyro_lsb, np.round(gyro_dps / gyro_lsb), atol=1e-6)
    assert np.abs(accel_g[:, 2] - 1.0).max() <= accel_lsb / 2


def test_two_sensors_on_one_bus_are_read_in_step_each_with_its_own_samples():
    clock = SimulatedClock()
    left, right = marker_trace(12, 100, 1 / 8192, seed=1), marker_trace(12, 100, 1 / 8192, seed=2)
    bus = EmulatedBus(clock)
    bus.attach(0x68, emulated_chip(left, "mpu6050", clock))
    bus.attach(0x69, emulated_chip(right, "mpu6050", clock))
    a = open_stream(bus, address=0x68, clock=clock, settings=NO_CALIBRATION)
    b = open_stream(bus, address=0x69, clock=clock, settings=NO_CALIBRATION)
    got = {0x68: [], 0x69: []}
    with StreamGroup([a, b]) as group:
        while clock.monotonic() < 10:
            batches = group.read(timeout_s=1.0)
            assert all(batch is not None for batch in batches)
            assert abs(batches[0].t_s[-1] - batches[1].t_s[-1]) < 0.02   # same stretch of time
            got[0x68].append(batches[0])
            got[0x69].append(batches[1])
    for address, trace in ((0x68, left), (0x69, right)):
        accel = np.concatenate([batch.accel_g for batch in got[address]])
        number = marker_numbers(accel, 1 / 8192)
        assert np.all(np.diff(number) == 1)
        np.testing.assert_allclose(accel[:, 1], quantised(trace.accel_g[number, 1], 1 / 8192), atol=1e-12)


def test_gyro_bias_is_measured_at_rest_and_remembered_per_sensor(tmp_path):
    bias = (1.5, -0.8, 0.4)
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(10, rest_s=3), clock=clock, gyro_bias_dps=bias)
    states = []
    with open_stream(bus, clock=clock, calibration_dir=tmp_path) as stream:
        assert stream.status.state == "calibrating"
        stream.add_listener(lambda s: states.append(s.state))
        t_s, _, gyro_dps, lost, _ = collect(stream, clock, 3.0)
        assert stream.status.calibration == "measured"
        assert np.allclose(stream.status.gyro_bias_dps, bias, atol=0.05)
    assert states[0] == "reading"
    assert lost == 0 and t_s[0] < 0.2                  # the calibration second is delivered too
    assert np.abs(gyro_dps[t_s < 2.5].mean(axis=0)).max() < 0.05
    files = list(tmp_path.glob("*.json"))
    assert [f.name for f in files] == ["gyro-bias-mpu6050-busemulated-0x68.json"]
    assert np.allclose(json.loads(files[0].read_text())["gyro_bias_dps"], bias, atol=0.05)

    # the next start-up finds the wearer already moving: the remembered bias is used
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(10, rest_s=0.0), clock=clock, gyro_bias_dps=bias)
    with open_stream(bus, clock=clock, calibration_dir=tmp_path) as stream:
        collect(stream, clock, 2.0)
        assert stream.status.calibration == "remembered"
        assert np.allclose(stream.status.gyro_bias_dps, bias, atol=0.05)

    # another sensor (at 0x69) has no memory of its own: no bias rather than someone else's
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(10, rest_s=0.0), address=0x69, clock=clock,
                                      gyro_bias_dps=bias)
    with open_stream(bus, clock=clock, calibration_dir=tmp_path) as stream:
        collect(stream, clock, 2.0)
        assert stream.status.calibration == "none" and stream.status.gyro_bias_dps == (0, 0, 0)


def test_a_bias_that_cannot_be_kept_is_still_used_and_the_stream_goes_on(tmp_path, caplog):
    # A full or read-only card: the service must not die (and restart, and die) over a memory
    # it only needs next time.
    bias = (1.5, -0.8, 0.4)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(10, rest_s=3), clock=clock, gyro_bias_dps=bias)
    with open_stream(bus, clock=clock, calibration_dir=blocked / "calibration") as stream:
        t_s, _, gyro_dps, lost, _ = collect(stream, clock, 3.0)
        assert stream.status.calibration == "measured" and stream.status.state == "reading"
    assert t_s[-1] > 2.5 and lost == 0
    assert np.abs(gyro_dps[t_s < 2.5].mean(axis=0)).max() < 0.05
    assert "could not keep the gyro bias" in caplog.text


@pytest.mark.parametrize("damage", ['{"gyro_bias_dps": [NaN, 0, 0]}', '{"gyro_bias_dps": [1, 2]}', "{", "\xff"])
def test_a_damaged_bias_file_is_as_good_as_none(tmp_path, damage):
    (tmp_path / "gyro-bias-mpu6050-busemulated-0x68.json").write_text(damage, encoding="latin-1")
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(synthetic_trace(10, rest_s=0.0), clock=clock, gyro_bias_dps=(1.5, 0, 0))
    with open_stream(bus, clock=clock, calibration_dir=tmp_path) as stream:
        _, _, gyro_dps, _, _ = collect(stream, clock, 2.0)
        assert stream.status.calibration == "none" and stream.status.gyro_bias_dps == (0, 0, 0)
    assert np.isfinite(gyro_dps).all()


def _stream_and_chip(chip):
    trace = marker_trace(10, CHIP_RATE_HZ[chip], PER_LSB[chip])
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(trace, chip=chip, clock=clock)
    stream = open_stream(bus, rate_hz=CHIP_RATE_HZ[chip], clock=clock, settings=NO_CALIBRATION)
    return stream, bus, next(iter(bus.chips.values())), clock


@pytest.mark.parametrize("chip, register, length", [
    ("mpu6050", M.FIFO_R_W, 5),                    # 5 bytes: the byte FIFO is off its frames
    ("lsm6ds3", L.DS3_FIFO_DATA_OUT_L, 2 * 2),     # 2 of the 6 pattern words
    ("lsm6dsox", L.DSOX_FIFO_DATA_OUT_TAG, 7),     # 1 tagged word: a gyro sample without its accel
])
def test_frames_are_realigned_after_a_read_that_stopped_part_way(chip, register, length):
    stream, bus, emulated, clock = _stream_and_chip(chip)
    with stream:
        first = stream.read(timeout_s=1.0)
        clock.sleep(0.3)
        # what a burst cut short by a bus fault leaves behind: part of a frame already popped
        bus.read_i2c_block_data(next(iter(bus.chips)), register, length)
        t_s, accel_g, gyro_dps, lost, _ = collect(stream, clock, 5.0)
    accel_g = np.concatenate([first.accel_g, accel_g])
    gyro_dps = np.concatenate([first.gyro_dps, gyro_dps])
    number = marker_numbers(accel_g, PER_LSB[chip])
    steps = np.diff(number)
    assert np.all(steps >= 1)                                    # nothing repeated...
    assert np.sum(steps > 1) == 1 and steps.max() <= CHIP_RATE_HZ[chip]   # ...one short gap
    # and every sample is whole: its other axes belong to the same trace sample as its marker
    np.testing.assert_allclose(accel_g[:, 1:], quantised(emulated.trace.accel_g[number, 1:], PER_LSB[chip]),
                               atol=1e-12)
    gyro_per_lsb = 1 / 65.5 if chip.startswith("mpu") else 17.5e-3
    np.testing.assert_allclose(gyro_dps, quantised(emulated.trace.gyro_dps[number], gyro_per_lsb), atol=1e-12)
    assert lost >= 1 and abs(lost - int(np.sum(steps - 1))) <= 2


def test_an_lsm6dsox_overrun_during_a_burst_that_drains_the_fifo_is_caught():
    # FIFO_OVR_IA says "full now", and is clear again once the burst has drained the FIFO; only
    # FIFO_OVR_LATCHED remembers the overrun that shifted the head mid-read (the emulator's
    # FIFO_STATUS2 behaves as the chip's).
    from firmware_bridge.i2c import SharedBus

    clock = SimulatedClock()
    bus = emulated_bus_from_recording(marker_trace(20, 104, 0.122e-3), chip="lsm6dsox", clock=clock)
    chip = bus.chips[0x6A]
    driver = L.Lsm6dsox(SharedBus(bus), 0x6A, clock)
    driver.initialise(104)
    clock.sleep(255 / 104)                          # 510 of the FIFO's 512 words
    real_burst = driver.device.read_burst

    def preempted(register, n):
        if register == L.DSOX_FIFO_DATA_OUT_TAG:
            clock.advance(0.05)                     # the host paused mid-read: the FIFO overran
        return real_burst(register, n)

    driver.device.read_burst = preempted
    read = driver.read_fifo()
    assert chip.overflows >= 1
    assert read.overflowed and len(read.raw) == 0   # nothing from a shifted head is trusted


def test_a_count_read_while_a_frame_is_being_written_loses_nothing():
    # The chip writes each sample into its FIFO byte by byte; a count read in that moment
    # counts part of a frame. That is no lost byte (the frame is whole microseconds later),
    # and restarting the FIFO for it threw away every sample waiting: a second look tells the
    # two apart.
    from firmware_bridge import Faults

    torn = 0
    for seed in range(3):
        trace = marker_trace(60, 100, 1 / 8192)
        clock = SimulatedClock(sleep_jitter_s=0.003, seed=seed)
        bus = emulated_bus_from_recording(trace, clock=clock, faults=Faults(frame_write_s=50e-6))
        with open_stream(bus, clock=clock, settings=NO_CALIBRATION) as stream:
            t_s, accel_g, _, lost, _ = collect(stream, clock, 59.0)
        torn += bus.chips[0x68].torn_counts
        number = marker_numbers(accel_g, 1 / 8192)
        assert lost == 0 and np.all(np.diff(number) == 1)
    assert torn >= 3                                          # it happened, more than once
