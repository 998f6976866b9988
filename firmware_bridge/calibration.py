"""Gyro bias remembered per sensor: one small JSON file each, in a directory the caller names.

Measured at rest at start-up; when the wearer is already moving at start-up the last good
measurement for that sensor is used instead of a guess. No directory, nothing remembered.
"""
from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GyroBias:
    sensor: str
    bus: str
    address: int
    gyro_bias_dps: tuple[float, float, float]
    samples: int


class CalibrationStore:
    def __init__(self, directory: str | os.PathLike | None) -> None:
        self.directory = Path(directory) if directory is not None else None

    def path_for(self, sensor: str, bus: object, address: int) -> Path | None:
        if self.directory is None:
            return None
        safe_bus = "".join(c if c.isalnum() else "-" for c in str(bus))
        return self.directory / f"gyro-bias-{sensor}-bus{safe_bus}-0x{address:02x}.json"

    def load(self, sensor: str, bus: object, address: int) -> GyroBias | None:
        path = self.path_for(sensor, bus, address)
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            bias = tuple(float(v) for v in data["gyro_bias_dps"])
            if len(bias) != 3 or not all(map(math.isfinite, bias)):
                return None   # JSON lets NaN through, and it would poison every reading
            return GyroBias(sensor, str(bus), address, bias, int(data.get("samples", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None   # a damaged file is as good as none: measure again next time

    def save(self, bias: GyroBias) -> Path | None:
        """Where the bias was kept; None if nowhere. A card that is full or read-only loses
        only the memory for next time: the bias just measured is still used."""
        path = self.path_for(bias.sensor, bias.bus, bias.address)
        if path is None:
            return None
        tmp = path.with_suffix(".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(json.dumps({
                    "sensor": bias.sensor, "bus": bias.bus, "address": f"0x{bias.address:02x}",
                    "gyro_bias_dps": list(bias.gyro_bias_dps), "samples": bias.samples}, indent=1) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)   # never a half-written file, even across a power cut
        except OSError as e:
            log.warning("could not keep the gyro bias in %s: %s", path, e)
            return None
        return path
