"""``backrep doctor`` against a made-up system tree and an emulated bus, and on this machine."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from backrep.doctor import Environment, diagnose
from firmware_bridge import EmulatedBus, SimulatedClock, emulated_chip, synthetic_trace

ROOT = Path(__file__).resolve().parent.parent


def make_env(tmp_path, buses=(), bus_factory=None, clock_hz=None, model=None, config_text=None, groups=()):
    dev, sys_dir = tmp_path / "dev", tmp_path / "sys"
    dev.mkdir()
    for number in buses:
        (dev / f"i2c-{number}").touch()
        node = sys_dir / f"i2c-{number}" / "of_node"
        node.mkdir(parents=True)
        (sys_dir / f"i2c-{number}" / "name").write_text("bcm2835 (i2c@7e804000)\n")
        if clock_hz:
            (node / "clock-frequency").write_bytes(clock_hz.to_bytes(4, "big"))
    model_path = tmp_path / "model"
    if model:
        model_path.write_bytes(model.encode() + b"\0")
    config = tmp_path / "config.txt"
    if config_text is not None:
        config.write_text(config_text)
    return Environment(dev_dir=dev, adapter_dir=sys_dir, model_path=model_path, boot_configs=(config,),
                       bus_factory=bus_factory, groups_of_user=lambda: list(groups))


def run(env):
    out = io.StringIO()
    return diagnose(env, out), out.getvalue()


def test_no_buses_says_how_to_enable_i2c_wire_the_board_and_join_the_group(tmp_path):
    status, text = run(make_env(tmp_path))
    assert status == 1
    assert "No I2C buses" in text
    assert "raspi-config" in text and "dtparam=i2c_arm=on" in text
    assert "pin 3 (GPIO2)" in text and "pin 5 (GPIO3)" in text and "pull-ups" in text
    assert "usermod -aG i2c" in text


def test_i2c_enabled_in_config_but_no_bus_points_at_reboot_and_i2c_dev(tmp_path):
    status, text = run(make_env(tmp_path, config_text="[all]\ndtparam=i2c_arm=on\n"))
    assert status == 1 and "modprobe i2c-dev" in text and "reboot" in text


def emulated_factory(*addresses):
    clock = SimulatedClock()
    bus = EmulatedBus(clock)
    chips = {0x68: "mpu6050", 0x69: "mpu6050", 0x6A: "lsm6dsox"}
    for address in addresses:
        bus.attach(address, emulated_chip(synthetic_trace(3), chips.get(address, "mpu6050"), clock))
    return lambda number: bus


def test_an_emulated_bus_with_two_thighs_lists_both_sensors_and_the_kernels_bus_speed(tmp_path):
    env = make_env(tmp_path, buses=[1], bus_factory=emulated_factory(0x68, 0x69), clock_hz=400_000)
    status, text = run(env)
    assert status == 0
    assert "Bus 1" in text and "kernel reports 400 kHz" in text
    assert "answering: 0x68 0x69" in text
    assert "0x68: mpu6050 (WHO_AM_I 0x68)" in text and "0x69: mpu6050" in text
    assert "2 sensors found" in text


def test_a_slow_bus_clock_is_flagged_with_the_line_that_speeds_it_up(tmp_path):
    env = make_env(tmp_path, buses=[1], bus_factory=emulated_factory(0x6A), clock_hz=100_000)
    status, text = run(env)
    assert status == 0 and "0x6a: lsm6dsox" in text
    assert "kernel reports 100 kHz" in text and "i2c_arm_baudrate=400000" in text


def test_a_strange_chip_at_a_sensor_address_is_named_not_trusted(tmp_path):
    factory = emulated_factory(0x68)
    chip = factory(1).chips[0x68]
    chip.WHO_AM_I = {"mpu6050": 0x55}
    chip.power_on()
    status, text = run(make_env(tmp_path, buses=[1], bus_factory=factory))
    assert status == 1 and "not a supported sensor" in text and "0x75 reads 0x55" in text


def test_a_bus_where_nothing_answers_gets_wiring_advice(tmp_path):
    status, text = run(make_env(tmp_path, buses=[1], bus_factory=emulated_factory(), model="Raspberry Pi Zero 2 W Rev 1.0"))
    assert status == 1
    assert "nothing answers" in text and "pull-ups" in text and "3.3 V" in text
    assert "core clock" in text    # the Zero 2 W's bus-clock caveat


def test_permission_denied_points_at_the_i2c_group(tmp_path):
    def refuse(number):
        raise PermissionError(13, "Permission denied")

    status, text = run(make_env(tmp_path, buses=[1], bus_factory=refuse))
    assert status == 1 and "permission denied" in text and "usermod -aG i2c" in text


def test_doctor_on_this_machine_explains_itself_without_a_traceback():
    result = subprocess.run([sys.executable, "-m", "backrep", "doctor"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout.strip()
