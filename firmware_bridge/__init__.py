"""The sensor bridge: I2C drivers for thigh IMUs, read through their FIFOs, and emulated chips
on a fake bus so that every line runs without hardware.

Knows nothing of exercises, files or the web. The app layer picks the bus (a real
``smbus2.SMBus`` or an ``EmulatedBus``) at its entry point and codes against this:

    stream = open_stream(bus=1, rate_hz=100.0, calibration_dir=...)
    batch = stream.read(timeout_s=1.0)   # SampleBatch or None
    stream.status                        # SensorStatus
"""
from firmware_bridge.calibration import CalibrationStore, GyroBias
from firmware_bridge.clock import Clock, MonotonicClock, ScaledClock, SimulatedClock
from firmware_bridge.emulated import (EmulatedBus, EmulatedChip, EmulatedLsm6ds, EmulatedMpu6050,
                                      Faults, Trace, emulated_bus_from_recording, emulated_chip,
                                      marker_numbers, marker_trace, synthetic_trace)
from firmware_bridge.errors import (BridgeError, BusAccessError, BusError, ConfigurationError, SensorNotFoundError,
                                    UnsupportedSensorError)
from firmware_bridge.i2c import SharedBus
from firmware_bridge.probe import Identity, find_sensor, identify_at, scan
from firmware_bridge.stream import SensorStream, StreamGroup, StreamSettings, open_bus, open_stream
from firmware_bridge.records import STATES, ChipConfig, SampleBatch, SensorStatus

__all__ = [
    "STATES", "BridgeError", "BusAccessError", "BusError", "CalibrationStore", "ChipConfig", "Clock",
    "ConfigurationError", "EmulatedBus", "EmulatedChip", "EmulatedLsm6ds", "EmulatedMpu6050",
    "Faults", "GyroBias", "Identity", "MonotonicClock", "SampleBatch", "ScaledClock",
    "SensorNotFoundError", "SensorStatus", "SensorStream", "SharedBus", "SimulatedClock",
    "StreamGroup", "StreamSettings", "Trace", "UnsupportedSensorError", "emulated_bus_from_recording",
    "emulated_chip", "find_sensor", "marker_numbers", "marker_trace", "synthetic_trace", "identify_at", "open_bus", "open_stream", "scan",
]
