"""The ``backrep`` command: argument parsing and dispatch, nothing else.

Every subcommand lives in its own module with ``run(args) -> int``. Bad input of any kind is
one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from backrep import __version__
from backrep.errors import BackrepError, UsageError


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        raise UsageError(f"{self.prog}: {message}")


def _address(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an I2C address: {text!r}") from None
    if not 0x03 <= value <= 0x77:
        raise argparse.ArgumentTypeError(f"I2C address out of range 0x03..0x77: {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0..65535: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="backrep", description="Rep counter for lower-back rehabilitation.")
    parser.add_argument("--version", action="version", version=f"backrep {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    sub.required = True

    replay = sub.add_parser("replay", help="count reps and time holds in recordings")
    replay.add_argument("files", nargs="+", metavar="FILE")
    replay.add_argument("--exercise", default=None, metavar="ID|auto",
                        help="count as this exercise; by default the one the recording's metadata "
                             "or .json labels name, else auto")
    replay.add_argument("--json", action="store_true", help="one JSON object per file, per line")

    record = sub.add_parser("record", help="record the thigh sensor to a CSV file")
    record.add_argument("out", metavar="OUT.csv")
    record.add_argument("--seconds", type=_positive_float, default=None)
    record.add_argument("--bus", type=int, default=None, help="the I2C bus, /dev/i2c-N (default 1)")
    record.add_argument("--address", type=_address, default=None)
    record.add_argument("--rate-hz", type=_positive_float, default=None, help="default 100")
    record.add_argument("--side", choices=["left", "right"], default=None)
    record.add_argument("--emulate", metavar="TRACE.csv", default=None,
                        help="run the real driver against an emulated chip fed with TRACE")
    record.add_argument("--speed", type=_positive_float, default=1.0)
    record.add_argument("--chip", choices=["mpu6050", "mpu6500", "mpu9250", "lsm6dsox", "lsm6ds3"],
                        default="mpu6050", help="with --emulate: which chip to emulate")
    record.add_argument("--second", metavar="OUT2.csv", default=None,
                        help="also record the other thigh's sensor (the chip's other address) to OUT2")
    record.add_argument("--force", action="store_true", help="replace OUT.csv (and OUT2.csv) if already there")

    sub.add_parser("doctor", help="find I2C buses and sensors, and say what to fix")

    serve = sub.add_parser("serve", help="run the live service and dashboard")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=_port, default=None)
    serve.add_argument("--demo", action="store_true", help="play bundled recordings; no hardware")
    serve.add_argument("--replay", metavar="FILE", default=None)
    serve.add_argument("--exercise", default=None, metavar="ID")
    serve.add_argument("--speed", type=_positive_float, default=1.0)
    serve.add_argument("--data-dir", default=None)
    serve.add_argument("--config", default=None)

    pin = sub.add_parser("pin", help="print the PIN that pairs a tablet with the service")
    pin.add_argument("--data-dir", default=None)
    pin.add_argument("--config", default=None)
    return parser


_COMMAND_MODULES = {
    "replay": "backrep.replay",
    "record": "backrep.record",
    "doctor": "backrep.doctor",
    "serve": "backrep.serve",
    "pin": "backrep.pin",
}


def _parsed(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments, with replay's files allowed after its options too (``FILE [FILE ...]
    [--exercise ID] [--json]`` is a synopsis, not an order: ``a.csv --json b.csv`` is two files).
    argparse's ``parse_intermixed_args`` does not work with subcommands."""
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "replay" and not any(x.startswith("-") for x in extra):
        args.files += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parsed(build_parser(), argv)
        module = importlib.import_module(_COMMAND_MODULES[args.command])
        return int(module.run(args) or 0)
    except BackrepError as exc:
        print(f"backrep: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `backrep replay ... | head`: the reader went away; not an error worth a word.
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug, not bad input: one line unless asked for the details
        if os.environ.get("BACKREP_DEBUG"):
            raise
        print(f"backrep: internal error: {type(exc).__name__}: {exc} (BACKREP_DEBUG=1 shows more)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
