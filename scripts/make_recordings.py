#!/usr/bin/env python3
"""Regenerate the simulated recordings: the test library and the dashboard demos.

    .venv/bin/python scripts/make_recordings.py            # everything
    .venv/bin/python scripts/make_recordings.py --only knee_to_chest-03-slow-slip

Every file comes from a fixed seed in backrep/simulator/library.py, so running this again
rewrites the same bytes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backrep.simulator.library import DEMOS, LIBRARY, write_library

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", metavar="NAME", help="only these recordings (file stems)")
    parser.add_argument("--recordings", type=Path, default=ROOT / "recordings", help="library directory")
    parser.add_argument("--demo", type=Path, default=ROOT / "backrep" / "demo", help="demo directory")
    args = parser.parse_args(argv)
    only = set(args.only) if args.only else None
    known = {s.name for s in LIBRARY} | {s.name for s in DEMOS}
    if only and only - known:
        parser.error(f"unknown recordings: {', '.join(sorted(only - known))}")
    written = write_library(args.recordings, LIBRARY, only)
    if not only or only & {s.name for s in DEMOS}:
        written += write_library(args.demo, DEMOS, only)
    for path in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
