"""Faults injected into the emulated chips: the process survives, the state is reported, no
sample is duplicated, and lost samples show as gaps in ``t_s`` at the right place.

The marker trace carries each sample's number in the accelerometer's x axis, so for every
sample delivered the test knows which trace sample it really was and when it was made.
"""
from __future__ import annotations

import errno

import numpy as np
import pytest

from firmware_bridge import (BridgeError, BusError, Faults, SimulatedClock, StreamSettings,
                             emulated_bus_from_recording, marker_numbers, marker_trace, open_stream)
from firmware_bridge import mpu6050 as M

PER_LSB = {"mpu6050": 1 / 8192, "lsm6dsox": 0.122e-3, "lsm6ds3": 0.122e-3}
RATE_HZ = {"mpu6050": 100.0, "lsm6dsox": 104.0, "lsm6ds3": 104.0}
NO_CALIBRATION = StreamSettings(calibrate=False)


class Run:
    """One stream run to the end of a faulty emulation, everything it said kept."""

    def __init__(self, chip="mpu6050", faults=None, seconds=20.0, rate_hz=None, settings=NO_CALIBRATION,
                 bus_hz=400_000):
        self.rate_hz = rate_hz or RATE_HZ[chip]
        self.per_lsb = PER_LSB[chip]
        self.trace = marker_trace(seconds + 2, self.rate_hz, self.per_lsb)
        self.clock = SimulatedClock(sleep_jitter_s=0.002)
        self.bus = emulated_bus_from_recording(self.trace, chip=chip, clock=self.clock, faults=faults,
                                               bus_hz=bus_hz)
        self.chip = next(iter(self.bus.chips.values()))
        self.states, self.messages = [], []
        t, accel, lost, self.batch_lost = [], [], 0, []
        with open_stream(self.bus, rate_hz=self.rate_hz, clock=self.clock, settings=settings) as stream:
            stream.add_listener(lambda status: self.states.append(status.state))
            while self.clock.monotonic() < seconds:
                batch = stream.read(timeout_s=0.05)     # never raises for a bus fault
                if stream.status.message and stream.status.message not in self.messages:
                    self.messages.append(stream.status.message)
                if batch is None:
                    continue
                t.append(batch.t_s)
                accel.append(batch.accel_g)
                lost += batch.lost_samples
                self.batch_lost.append(batch.lost_samples)
            self.final = stream.status
        self.t_s = np.concatenate(t)
        self.number = marker_numbers(np.concatenate(accel), self.per_lsb)
        self.lost = lost

    def assert_honest(self, time_tolerance_periods=1.5):
        """No sample twice, none out of order, and each stamped near the moment it was made:
        so every gap in t_s is exactly where samples were really lost."""
        period = 1 / self.rate_hz
        assert np.all(np.diff(self.number) >= 1), "a sample was duplicated or reordered"
        assert np.all(np.diff(self.t_s) > 0.5 * period)
        error = self.t_s - self.trace.t_s[self.number]
        assert np.abs(error).max() < time_tolerance_periods * period
        missing = int(np.sum(np.diff(self.number) - 1))
        # the reported loss is the real loss, to within a sample or two at each gap
        gaps = int(np.sum(np.diff(self.number) > 1))
        assert abs(self.lost - missing) <= 2 * gaps + 1

    def gap_s(self):
        return float(np.diff(self.t_s).max())


def assert_lost_until_reconnected(states):
    """lost, then reconnecting during each attempt and lost again between them, then reading."""
    end = states.index("reading")
    assert states[:2] == ["lost", "reconnecting"]
    assert states[:end] == ["lost", "reconnecting"] * (end // 2)


@pytest.mark.parametrize("chip", ["mpu6050", "lsm6dsox", "lsm6ds3"])
def test_transient_bus_errors_are_retried_without_losing_a_sample(chip):
    run = Run(chip, Faults(error_rate=0.05, seed=3))
    assert run.lost == 0 and np.all(np.diff(run.number) == 1)
    assert "lost" not in run.states and run.final.state == "reading"
    run.assert_honest()


@pytest.mark.parametrize("chip", ["mpu6050", "lsm6dsox", "lsm6ds3"])
def test_an_unplugged_sensor_is_lost_then_reconnected_and_the_gap_is_the_real_one(chip):
    # unplugged for 3 s: the chip loses power, so it comes back asleep and must be set up again
    run = Run(chip, Faults(disconnects=[(6.0, 3.0)]))
    assert_lost_until_reconnected(run.states)
    assert run.final.state == "reading"
    # the gap is the 3 s away plus at most the back-off then in force (1.6 s) and a reset
    assert 3.0 < run.gap_s() < 4.8
    assert 3.0 * run.rate_hz <= run.lost <= 4.8 * run.rate_hz
    assert sum(1 for lost in run.batch_lost if lost) == 1              # reported once, with the resumed samples
    run.assert_honest()


def test_a_short_glitch_that_leaves_the_chip_powered_loses_nothing():
    # 0.4 s of NACKs on a loose SDA wire: the FIFO (0.85 s at 100 Hz) bridges it
    run = Run("mpu6050", Faults(glitches=[(6.0, 0.4)]))
    assert_lost_until_reconnected(run.states)
    assert run.lost == 0 and np.all(np.diff(run.number) == 1)
    run.assert_honest()


def test_reconnection_backs_off_while_the_sensor_stays_away():
    run = Run("mpu6050", Faults(disconnects=[(3.0, 12.0)]))
    waits = [float(m.rsplit("next try in ", 1)[1].split()[0]) for m in run.messages if "next try in" in m]
    assert waits[:6] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6]      # doubling...
    assert max(waits) == 2.0 and len(waits) < 15            # ...to 2 s: a dozen tries, not hundreds
    assert run.final.state == "reading"
    run.assert_honest()


@pytest.mark.parametrize("chip", ["mpu6050", "lsm6dsox", "lsm6ds3"])
def test_a_fifo_overflow_is_reset_realigned_and_reported_as_lost_samples(chip):
    # the host stalls for 12 s: even the 8 kB LSM6DS3 FIFO overflows
    run = Run(chip, Faults(stalls=[(5.0, 12.0)]), seconds=25)
    assert run.chip.overflows >= 1
    assert run.lost > 0 and run.gap_s() > 1.0
    assert run.final.state == "reading"
    run.assert_honest()


def test_mpu_overflow_at_1khz_misaligns_the_byte_fifo_and_is_still_realigned():
    run = Run("mpu6050", Faults(stalls=[(2.0, 0.5), (4.0, 0.3)]), seconds=8, rate_hz=1000.0)
    assert run.chip.overflows >= 2
    run.assert_honest()


def test_a_stuck_sensor_is_reported_and_its_repeated_samples_are_not_passed_on():
    run = Run("mpu6050", Faults(stuck=[(5.0, 4.0)]))
    assert "stuck" in run.states and run.final.state == "reading"
    assert run.states.index("stuck") < len(run.states) - 1
    # at most a second of identical samples passes before the verdict; the rest is a gap
    period = 1 / run.rate_hz
    assert 2.5 < run.gap_s() < 3.5
    assert run.lost >= 2.5 * run.rate_hz
    assert np.all(np.diff(run.t_s) > 0.5 * period)


def test_a_brownout_that_puts_the_chip_to_sleep_is_noticed_and_reinitialised():
    run = Run("mpu6050", Faults(brownouts=[7.0]))
    assert "reconnecting" in run.states and run.final.state == "reading"
    assert run.chip.regs[M.PWR_MGMT_1] == M.PWR_MGMT_1_CLKSEL_PLL_XGYRO     # awake again
    assert 0 < run.lost < 0.6 * run.rate_hz
    run.assert_honest()


def test_an_lsm_brownout_is_noticed_too():
    run = Run("lsm6dsox", Faults(brownouts=[7.0]))
    assert "reconnecting" in run.states and run.final.state == "reading"
    run.assert_honest()


def test_a_bus_much_slower_than_nominal_costs_samples_not_the_process():
    # 1 kHz through a 100 kHz bus running at a fifth of its nominal speed: 12 kB/s of samples
    # through a bus that moves 2 kB/s. The FIFO overflows during every burst; each time the
    # burst is dropped rather than trusted, and the loss is reported as such
    run = Run("mpu6050", Faults(bus_slowdown=5.0), seconds=6, rate_hz=1000.0, bus_hz=100_000)
    assert run.final.state == "reading"
    assert run.chip.overflows > 5 and run.lost > 3000
    run.assert_honest(time_tolerance_periods=3)


def test_a_bus_somewhat_slower_than_nominal_still_keeps_every_sample():
    # 200 Hz through a 100 kHz bus at a third of its speed: slow, but enough
    run = Run("mpu6050", Faults(bus_slowdown=3.0), seconds=8, rate_hz=200.0, bus_hz=100_000)
    assert run.lost == 0 and np.all(np.diff(run.number) == 1)
    run.assert_honest()


def test_a_listener_that_raises_does_not_stop_the_stream():
    trace = marker_trace(10, 100, 1 / 8192)
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(trace, clock=clock, faults=Faults(disconnects=[(3.0, 1.0)]))
    heard = []

    def broken(status):
        heard.append(status.state)
        raise RuntimeError("listener bug")

    with open_stream(bus, clock=clock, settings=NO_CALIBRATION) as stream:
        stream.add_listener(broken)
        while clock.monotonic() < 8:
            stream.read(timeout_s=1.0)
        assert stream.status.state == "reading"
    assert heard[:2] == ["lost", "reconnecting"]


def test_close_is_safe_twice_and_reading_a_closed_stream_is_a_bridge_error():
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(marker_trace(5, 100, 1 / 8192), clock=clock)
    stream = open_stream(bus, clock=clock, settings=NO_CALIBRATION)
    stream.close()
    stream.close()
    with pytest.raises(BridgeError) as err:
        stream.read()
    assert "0x68" in str(err.value)
    assert not bus.closed    # the caller's bus stays the caller's


def test_a_stream_that_opened_its_own_bus_closes_it():
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(marker_trace(5, 100, 1 / 8192), clock=clock)
    with open_stream(1, bus_factory=lambda number: bus, clock=clock, settings=NO_CALIBRATION) as stream:
        assert stream.read(timeout_s=1.0) is not None
    assert bus.closed


def test_bus_errors_keep_errno_and_name_bus_and_address():
    error = BusError(1, 0x68, OSError(errno.EREMOTEIO, "Remote I/O error"), "reading register 0x3a")
    assert isinstance(error, OSError) and isinstance(error, BridgeError)
    assert error.errno == errno.EREMOTEIO
    assert str(error) == "I2C bus 1, address 0x68: reading register 0x3a: Remote I/O error"


def test_the_emulated_bus_refuses_what_smbus_refuses():
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(marker_trace(2, 100, 1 / 8192), clock=clock)
    with pytest.raises(ValueError):
        bus.read_i2c_block_data(0x68, M.FIFO_R_W, 33)           # SMBus blocks stop at 32
    assert bus.read_i2c_block_data(0x68, M.WHO_AM_I, 1) == [0x68]   # a list of ints, as smbus2
    with pytest.raises(OSError) as err:
        bus.read_byte_data(0x50, 0)                              # nobody at 0x50
    assert err.value.errno == errno.EREMOTEIO



@pytest.mark.parametrize("chip", ["mpu6050", "lsm6dsox", "lsm6ds3"])
def test_reads_that_fail_part_way_say_what_they_popped_and_where(chip):
    # A fault part way through a FIFO burst: the chip had already clocked out some of the
    # samples asked for, popped for good though they never arrived. Whole samples popped so
    # used to vanish without a trace: nothing counted lost, no gap, and every later sample
    # stamped up to 14 periods early until the time line crept back. Now they are counted, and
    # the gap falls where they were.
    run = Run(chip, Faults(error_rate=0.05, part_way=True, seed=4))
    assert run.final.state == "reading"
    missing = int(np.sum(np.diff(run.number) - 1))
    gaps = int(np.sum(np.diff(run.number) > 1))
    assert missing > 0 and abs(run.lost - missing) <= 2 * gaps + 1
    if chip == "mpu6050":
        # (on the LSM6DS chips, two failures in a row that both pop can put a gap a sample or
        # a few out of place)
        run.assert_honest()
