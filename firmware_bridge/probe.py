"""Finding and identifying sensors: which address answers, and what chip is there."""
from __future__ import annotations

from dataclasses import dataclass

from firmware_bridge import lsm6ds, mpu6050
from firmware_bridge.clock import Clock
from firmware_bridge.errors import SensorNotFoundError, UnsupportedSensorError
from firmware_bridge.i2c import SharedBus

PROBE_ADDRESSES = mpu6050.ADDRESSES + lsm6ds.ADDRESSES
FIRST_ADDRESS, LAST_ADDRESS = 0x03, 0x77


@dataclass(frozen=True)
class Identity:
    address: int
    sensor: str | None       # None: something answered but it is not ours
    who_am_i: int | None
    note: str = ""


def identify_at(bus: SharedBus, address: int) -> Identity:
    """Read the WHO_AM_I registers both families use and name the chip; raises OSError if
    nothing acknowledges."""
    notes = []
    for register, table in ((mpu6050.WHO_AM_I, {k: m.sensor for k, m in mpu6050.MODELS.items()}),
                            (lsm6ds.WHO_AM_I, lsm6ds.SENSORS)):
        value = bus.read_byte_data(address, register)
        if value in table:
            return Identity(address, table[value], value)
        notes.append(f"register 0x{register:02x} reads 0x{value:02x}")
    return Identity(address, None, None, "; ".join(notes))


def make_driver(bus: SharedBus, identity: Identity, clock: Clock, **options):
    if identity.sensor in {m.sensor for m in mpu6050.MODELS.values()}:
        return mpu6050.Mpu6050(bus, identity.address, clock, **options)
    return lsm6ds.DRIVERS[identity.who_am_i](bus, identity.address, clock, **options)


def find_sensor(bus: SharedBus, address: int | None, clock: Clock, **options):
    """A driver for the sensor at ``address``, or at the first of 0x68, 0x69, 0x6A, 0x6B that
    holds one. Refuses a chip it does not know with a message saying what it found."""
    addresses = PROBE_ADDRESSES if address is None else (address,)
    strangers = []
    for candidate in addresses:
        try:
            identity = identify_at(bus, candidate)
        except OSError:
            continue
        if identity.sensor is not None:
            return make_driver(bus, identity, clock, **options)
        strangers.append(f"0x{candidate:02x} ({identity.note})")
    where = ", ".join(f"0x{a:02x}" for a in addresses)
    if strangers:
        raise UnsupportedSensorError(
            f"I2C bus {bus.name}: a device answered at {', '.join(strangers)} but it is not an "
            f"MPU-6050/6500/9250 or LSM6DS3/LSM6DSOX; check the board, or pass --address")
    raise SensorNotFoundError(
        f"I2C bus {bus.name}: no sensor answered at {where}; run `backrep doctor` to check "
        f"wiring, pull-ups and that I2C is enabled")


def scan(bus: SharedBus) -> list[int]:
    """Addresses that acknowledge, probed the way i2cdetect does (a quick write, or a byte read
    in the EEPROM ranges where a quick write could corrupt a device)."""
    found = []
    for address in range(FIRST_ADDRESS, LAST_ADDRESS + 1):
        try:
            with bus.lock:
                if 0x30 <= address <= 0x37 or 0x50 <= address <= 0x5F:
                    bus.bus.read_byte(address)
                else:
                    bus.bus.write_quick(address)
        except OSError:
            continue
        found.append(address)
    return found
