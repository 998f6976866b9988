"""Configuration: every default lives here, in code; a small TOML file holds only what differs.

As OctoPrint does it: the schema below is the documentation, a user's file names just the keys
they change, and an unknown key, a wrong type or a value out of its range is refused with one
line naming the file.

Example ``config.toml``::

    data_dir = "/var/lib/backrep"
    [server]
    port = 8000
    require_token_for_reading = true
    [sensor]
    address = 0x69
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from backrep.errors import InputFileError


@dataclass(frozen=True)
class ServerConfig:
    #: The address to listen on: 0.0.0.0 (every interface) so the tablet on the home Wi-Fi can
    #: reach it; 127.0.0.1 keeps it to this machine.
    host: str = "0.0.0.0"
    port: int = field(default=8080, metadata={"range": (0, 65535)})   # 0: any free port
    #: Pages, live counts and history need a paired token too (by default they are readable on
    #: the LAN; starting or stopping a set and exporting always need one).
    require_token_for_reading: bool = False
    #: Live streams (tablets, browser tabs) served at once; one more gets 503 and retries.
    max_streams: int = field(default=6, metadata={"range": (1, None)})
    #: Worker threads beyond the streams, for page loads and API calls while streams are open.
    spare_threads: int = field(default=4, metadata={"range": (1, None)})
    heartbeat_s: float = field(default=5.0, metadata={"range": (0.1, 3600.0)})
    #: Recent SSE messages kept for clients that reconnect with Last-Event-ID.
    replay_ring: int = field(default=256, metadata={"range": (1, None)})
    #: Messages a client may fall behind before it is dropped.
    client_queue: int = field(default=64, metadata={"range": (1, None)})
    #: How often the live state is pushed while nothing countable happens.
    state_interval_s: float = field(default=0.1, metadata={"range": (0.01, 60.0)})

    @property
    def threads(self) -> int:
        return self.max_streams + self.spare_threads


@dataclass(frozen=True)
class SensorConfig:
    bus: int = field(default=1, metadata={"range": (0, None)})
    #: I2C address; None lets the bridge probe the usual ones.
    address: int | None = field(default=None, metadata={"range": (0x03, 0x77)})
    rate_hz: float = field(default=100.0, metadata={"range": (4.0, 1000.0)})


@dataclass(frozen=True)
class DemoConfig:
    speed: float = field(default=1.0, metadata={"range": (0.01, 1000.0)})
    #: Seconds between demo sets, so the set summary can be read.
    pause_s: float = field(default=8.0, metadata={"range": (0.0, 3600.0)})


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    sensor: SensorConfig = field(default_factory=SensorConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    #: None: $STATE_DIRECTORY (systemd), else $XDG_DATA_HOME/backrep, else ~/.local/share/backrep.
    data_dir: str | None = None
    log_level: str = "INFO"

    def resolved_data_dir(self, environ: dict[str, str] | None = None) -> Path:
        env = os.environ if environ is None else environ
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        if env.get("STATE_DIRECTORY"):
            # systemd may pass several, colon-separated; ours is the first.
            return Path(env["STATE_DIRECTORY"].split(":")[0])
        base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")) / ".local" / "share")
        return Path(base).expanduser() / "backrep"


def default_config_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("CONFIGURATION_DIRECTORY"):
        return Path(env["CONFIGURATION_DIRECTORY"].split(":")[0]) / "config.toml"
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "backrep" / "config.toml"


def _within(value, low, high) -> bool:
    """Whether a setting's ``value`` lies in its range (NaN lies in none)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    return math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high)


def _merge(obj, table: dict, path: str, where: str):
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for key, value in table.items():
        name = f"{path}{key}"
        if key not in known:
            raise InputFileError(where, f"unknown setting {name!r} (known: {', '.join(known)})")
        current = getattr(obj, key)
        if hasattr(current, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise InputFileError(where, f"{name} must be a table")
            changes[key] = _merge(current, value, f"{name}.", where)
            continue
        kind = known[key].type
        if "float" in kind and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind == "bool":
            ok = isinstance(value, bool)
        else:
            expected = {"int": int, "float": float, "str": str}
            ok = value is None and "None" in kind or any(
                t in kind and isinstance(value, expected[t]) and not isinstance(value, bool) for t in expected)
        if not ok:
            raise InputFileError(where, f"{name} must be {kind}, not {value!r}")
        low, high = known[key].metadata.get("range", (None, None))
        if not _within(value, low, high):
            span = f"at least {low}" if high is None else f"from {low} to {high}"
            raise InputFileError(where, f"{name} must be {span}, not {value!r}")
        changes[key] = value
    return replace(obj, **changes)


def load_config(path: str | Path | None = None, *, required: bool = False) -> Config:
    """Defaults, overridden by the TOML file at ``path`` (or the default path, if it exists)."""
    config_path = Path(path) if path is not None else default_config_path()
    if not config_path.exists():
        if required:
            raise InputFileError(str(config_path), "no such config file")
        return Config()
    try:
        table = tomllib.loads(config_path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(str(config_path), f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(str(config_path), f"not valid TOML: {exc}") from None
    config = _merge(Config(), table, "", str(config_path))
    if config.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise InputFileError(str(config_path), f"log_level must be DEBUG, INFO, WARNING or ERROR, not {config.log_level!r}")
    return replace(config, log_level=config.log_level.upper())


def logging_config(level: str = "INFO") -> dict:
    """``logging.config.dictConfig`` input: one line per record on stdout, for journald."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                "formatter": "plain"}},
        "loggers": {
            "backrep": {"level": level},
            "web": {"level": level},
            "firmware_bridge": {"level": level},
            "signal_processing": {"level": level},
            "waitress": {"level": "WARNING" if level == "INFO" else level},
        },
        "root": {"level": "WARNING", "handlers": ["stdout"]},
    }
