"""``backrep doctor``: find the I2C buses and the sensors on them, and say what to fix.

The first thing a new user runs, so every finding comes with the next step. Everything it looks
at (``/dev``, ``/sys/class/i2c-adapter``, the device tree, the boot config, the bus itself) is
injected through ``Environment``, so tests run it against a temporary tree and an emulated bus.
Exit status 0 when a sensor was identified, 1 when not; never a traceback.
"""
from __future__ import annotations

import grp
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

WIRING = """\
  Wiring (MPU-6050 board -> Raspberry Pi header, see docs/hardware.md):
    VCC -> pin 1 (3.3 V)    GND -> pin 6 (GND)
    SDA -> pin 3 (GPIO2)    SCL -> pin 5 (GPIO3)
    AD0 -> GND for 0x68, or 3.3 V for 0x69 (a second sensor on the other thigh)
  Most breakout boards carry 4.7-10 kOhm pull-ups on SDA and SCL; a bare chip needs them."""

ENABLE_I2C = """\
  Enable I2C: `sudo raspi-config nonint do_i2c 0` (or raspi-config > Interface Options > I2C),
  or add to /boot/firmware/config.txt:  dtparam=i2c_arm=on,i2c_arm_baudrate=400000
  then reboot. `ls /dev/i2c-*` should then list i2c-1."""

CLOCK_NOTE = """\
  Note: on the Pi 3 and Zero 2 W the I2C clock is divided down from the VPU core clock, so
  the real SCL rate can fall below the configured one when the core clock changes (see
  docs/hardware.md). Measure it, or allow for it when choosing 1 kHz sampling."""


@dataclass
class Environment:
    """Where doctor looks. Defaults are the real system."""

    dev_dir: Path = Path("/dev")
    adapter_dir: Path = Path("/sys/class/i2c-adapter")
    model_path: Path = Path("/proc/device-tree/model")
    boot_configs: tuple[Path, ...] = (Path("/boot/firmware/config.txt"), Path("/boot/config.txt"))
    bus_factory: Callable[[int], Any] | None = None
    groups_of_user: Callable[[], list[str]] | None = None

    def open_bus(self, number: int) -> Any:
        if self.bus_factory is not None:
            return self.bus_factory(number)
        from smbus2 import SMBus
        return SMBus(number)

    def user_groups(self) -> list[str]:
        if self.groups_of_user is not None:
            return self.groups_of_user()
        try:
            return [grp.getgrgid(g).gr_name for g in os.getgroups()]
        except (KeyError, OSError):
            return []


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace").strip("\0\n ")
    except OSError:
        return None


def bus_clock_hz(env: Environment, number: int) -> int | None:
    """The SCL rate the kernel was given: the device tree's ``clock-frequency`` (big-endian u32)."""
    node = env.adapter_dir / f"i2c-{number}" / "of_node" / "clock-frequency"
    try:
        data = node.read_bytes()
    except OSError:
        return None
    return int.from_bytes(data[:4], "big") if len(data) >= 4 else None


def list_buses(env: Environment) -> list[int]:
    numbers = []
    for path in env.dev_dir.glob("i2c-*"):
        suffix = path.name[len("i2c-"):]
        if suffix.isdigit():
            numbers.append(int(suffix))
    return sorted(numbers)


def diagnose(env: Environment, out: TextIO) -> int:
    from firmware_bridge import SharedBus, identify_at, scan
    from firmware_bridge.probe import PROBE_ADDRESSES

    def say(text: str = "") -> None:
        print(text, file=out)

    model = _read_text(env.model_path)
    say(f"backrep doctor{f' on {model}' if model else ''}")
    buses = list_buses(env)
    found_sensors = 0
    if not buses:
        say(f"No I2C buses: nothing matches {env.dev_dir}/i2c-*.")
        configured = [p for p in env.boot_configs if p.exists()]
        for config in configured:
            text = config.read_text(errors="replace")
            if "i2c_arm=on" in text:
                say(f"  {config} enables i2c_arm, but no bus appeared: reboot, and check that the "
                    f"i2c-dev module is loaded (`sudo modprobe i2c-dev`).")
        say(ENABLE_I2C)
        say("  Then make sure you may use it: `sudo usermod -aG i2c $USER`, log out and in.")
        say(WIRING)
        say("Then run `backrep doctor` again.")
        return 1
    for number in buses:
        device = env.dev_dir / f"i2c-{number}"
        name = _read_text(env.adapter_dir / f"i2c-{number}" / "name") or "unknown adapter"
        clock = bus_clock_hz(env, number)
        clock_text = f"{clock / 1000:g} kHz" if clock else "speed not reported"
        say(f"Bus {number} ({device}, {name}): kernel reports {clock_text}")
        try:
            raw = env.open_bus(number)
        except PermissionError:
            groups = env.user_groups()
            say(f"  cannot open {device}: permission denied.")
            if "i2c" not in groups:
                say("  Add yourself to the i2c group: `sudo usermod -aG i2c $USER`, then log out and in.")
            continue
        except OSError as exc:
            say(f"  cannot open {device}: {exc.strerror or exc}")
            continue
        with SharedBus(raw, name=number, owns=True) as bus:
            try:
                answering = scan(bus)
            except OSError as exc:
                say(f"  scanning failed: {exc.strerror or exc}")
                continue
            if not answering:
                say("  nothing answers on this bus.")
                continue
            say("  answering: " + " ".join(f"0x{a:02x}" for a in answering))
            for address in answering:
                if address not in PROBE_ADDRESSES:
                    continue
                try:
                    identity = identify_at(bus, address)
                except OSError as exc:
                    say(f"  0x{address:02x}: answered the scan but not a register read ({exc.strerror or exc})")
                    continue
                if identity.sensor:
                    found_sensors += 1
                    say(f"  0x{address:02x}: {identity.sensor} (WHO_AM_I 0x{identity.who_am_i:02x}) - ready")
                else:
                    say(f"  0x{address:02x}: not a supported sensor ({identity.note}); backrep drives "
                        f"MPU-6050/6500/9250 and LSM6DS3/LSM6DSOX")
        if clock and clock < 400_000:
            say("  For 1 kHz sampling set 400 kHz: dtparam=i2c_arm=on,i2c_arm_baudrate=400000")
    if model and ("Raspberry Pi 3" in model or "Zero 2" in model):
        say(CLOCK_NOTE)
    if found_sensors:
        say(f"{found_sensors} sensor{'s' if found_sensors > 1 else ''} found. "
            f"Try: backrep record test.csv --seconds 10")
        return 0
    say("No sensor found on any bus.")
    say(WIRING)
    say("  A board that answers nowhere: check power (3.3 V at VCC), swapped SDA/SCL, and loose jumpers.")
    return 1


def run(args) -> int:
    return diagnose(Environment(), sys.stdout)
