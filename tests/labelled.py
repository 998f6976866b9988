"""The labelled recordings the counter is judged on: the simulated library and the real data."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIMULATED_DIR = ROOT / "recordings"
#: Real thigh-IMU recordings (UCI Physical Therapy Exercises, Yurtman & Barshan, CC BY 4.0),
#: kept beside the project in ../shared/realdata.
REAL_DIR = ROOT.parent / "shared" / "realdata" / "uci-pte"


def labelled_recordings() -> list[Path]:
    simulated = sorted(SIMULATED_DIR.glob("*.csv"))
    real = sorted(REAL_DIR.glob("*.csv"))
    if not simulated:
        raise RuntimeError(f"no recordings in {SIMULATED_DIR}")
    if not real:
        raise RuntimeError(f"no real recordings in {REAL_DIR}: clone the project with shared/ beside it")
    return [p for p in simulated + real if p.with_suffix(".json").exists()]
