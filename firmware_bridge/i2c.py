"""Register access over an smbus2-shaped bus, and one lock per bus.

Drivers talk to ``RegisterDevice``; it turns ``OSError`` into ``BusError`` (errno kept, bus and
address named) and reads every multi-byte block in one ``i2c_rdwr`` transfer (a write of the
register number, a repeated start, a read of any length), because SMBus block reads stop at
32 bytes and a register pair split over two transfers can come from two different samples.
"""
from __future__ import annotations

import threading
from typing import Any

from smbus2 import i2c_msg

from firmware_bridge.errors import BusError


class SharedBus:
    """One bus object shared by every sensor on it, behind a lock (smbus2's best practice).

    ``owns`` says whether closing this closes the underlying bus: a bus the caller passed in
    stays the caller's to close.
    """

    def __init__(self, bus: Any, name: object = "?", owns: bool = False) -> None:
        self.bus = bus
        self.name = name
        self.owns = owns
        self.lock = threading.RLock()
        self._closed = False

    def read_byte_data(self, address: int, register: int) -> int:
        with self.lock:
            return self.bus.read_byte_data(address, register)

    def write_byte_data(self, address: int, register: int, value: int) -> None:
        with self.lock:
            self.bus.write_byte_data(address, register, value)

    def read_i2c_block_data(self, address: int, register: int, length: int) -> list[int]:
        with self.lock:
            return self.bus.read_i2c_block_data(address, register, length)

    def i2c_rdwr(self, *messages: i2c_msg) -> None:
        with self.lock:
            self.bus.i2c_rdwr(*messages)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.owns:
            self.bus.close()

    def __enter__(self) -> "SharedBus":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def as_shared_bus(bus: Any, name: object = "?") -> SharedBus:
    return bus if isinstance(bus, SharedBus) else SharedBus(bus, name=name, owns=False)


class RegisterDevice:
    """One chip at one address on a shared bus."""

    def __init__(self, bus: SharedBus, address: int) -> None:
        self.bus = bus
        self.address = address

    def _fail(self, exc: OSError, doing: str) -> BusError:
        return BusError(self.bus.name, self.address, exc, doing)

    def read_u8(self, register: int) -> int:
        try:
            return self.bus.read_byte_data(self.address, register)
        except BusError:
            raise
        except OSError as exc:
            raise self._fail(exc, f"reading register 0x{register:02x}") from exc

    def write_u8(self, register: int, value: int) -> None:
        try:
            self.bus.write_byte_data(self.address, register, value & 0xFF)
        except BusError:
            raise
        except OSError as exc:
            raise self._fail(exc, f"writing register 0x{register:02x}") from exc

    def read_burst(self, register: int, length: int) -> bytes:
        """``length`` bytes from ``register`` in one combined transfer."""
        write = i2c_msg.write(self.address, [register])
        read = i2c_msg.read(self.address, length)
        try:
            self.bus.i2c_rdwr(write, read)
        except BusError:
            raise
        except OSError as exc:
            raise self._fail(exc, f"reading {length} bytes from 0x{register:02x}") from exc
        return bytes(read)
