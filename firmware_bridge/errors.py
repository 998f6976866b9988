"""One exception hierarchy for the sensor bridge.

As in gpiozero's ``exc.py``: one base, and each error also inherits the matching built-in so a
caller may catch either. Messages name the bus and the address; wrapped ``OSError`` keeps its
``errno`` so callers can tell a NACK (EREMOTEIO) from a timeout (ETIMEDOUT).
"""
from __future__ import annotations


class BridgeError(Exception):
    """Base of everything the bridge raises on purpose."""


class SensorNotFoundError(BridgeError, LookupError):
    """Nothing answered at the address (or at any address probed)."""


class UnsupportedSensorError(BridgeError, ValueError):
    """Something answered, but its WHO_AM_I is not a chip this bridge drives."""


class ConfigurationError(BridgeError, ValueError):
    """A rate, range or option the chip cannot do."""


class BusAccessError(BridgeError, PermissionError):
    """The bus device exists but this user may not open it (not in the ``i2c`` group)."""


class BusError(BridgeError, OSError):
    """A bus transfer failed; ``errno`` is the one the kernel gave."""

    def __init__(self, bus: object, address: int, cause: OSError, doing: str) -> None:
        message = f"I2C bus {bus}, address 0x{address:02x}: {doing}: {cause.strerror or cause}"
        super().__init__(cause.errno, message)
        self.bus = bus
        self.address = address

    def __str__(self) -> str:  # OSError's default str would prefix "[Errno n]" twice over
        return self.strerror or super().__str__()
