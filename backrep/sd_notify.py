"""systemd's notify protocol over the standard library socket: a datagram to $NOTIFY_SOCKET.

No libsystemd binding is needed for ``READY=1``, ``STOPPING=1``, ``WATCHDOG=1`` and ``STATUS=``;
outside systemd (no $NOTIFY_SOCKET) every call is a quiet no-op.
"""
from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, address: str | None) -> None:
        # "@name" is Linux's abstract namespace, spelled with a leading NUL on the wire.
        self.address = "\0" + address[1:] if address and address.startswith("@") else address

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Notifier":
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET") or None)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, *fields: str) -> bool:
        """Send ``KEY=value`` fields in one datagram; False (and a log line) if it could not be sent."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(fields).encode("utf-8"), self.address)
            return True
        except OSError as exc:
            log.warning("sd_notify to %r failed: %s", self.address, exc)
            return False


def watchdog_interval_s(environ: dict[str, str] | None = None, pid: int | None = None) -> float | None:
    """systemd's WatchdogSec= for this process (None when unset or meant for another PID)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    watchdog_pid = env.get("WATCHDOG_PID")
    if watchdog_pid and int(watchdog_pid) != (os.getpid() if pid is None else pid):
        return None
    try:
        value_s = int(usec) / 1e6
    except ValueError:
        return None
    return value_s if value_s > 0 else None


class ProgressWatchdog:
    """Feeds systemd's watchdog only when ``progress()`` has moved since the last feed.

    Called on a timer, but the timer alone never feeds it: a sensor loop that hangs stops its
    progress counter, the pings stop, and systemd restarts the service.
    """

    def __init__(self, notifier: Notifier, progress) -> None:
        self._notifier = notifier
        self._progress = progress
        self._last = None

    def tick(self) -> bool:
        """Ping if there was progress; True if a ping was sent."""
        now = self._progress()
        if now == self._last:
            return False
        self._last = now
        return self._notifier.notify("WATCHDOG=1")
