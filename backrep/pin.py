"""``backrep pin``, and the files behind pairing: the PIN and the paired tablets' token hashes.

Both live in the data directory, readable by the service's user only (mode 0600):

- ``pairing-pin``: six digits from ``secrets``, made on the service's first start and kept, so
  the PIN a person wrote down still works after a restart or a power cut;
- ``paired-tokens``: one SHA-256 hex digest per line, one line per paired browser. The tokens
  themselves are never written anywhere on the Pi; revoking is emptying the file.

``backrep pin`` only reads: a PIN made by whoever runs it (root, say) could be unreadable to the
service's own user, so only ``backrep serve`` creates one.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

from backrep.errors import InputFileError
from web.access import new_pin

log = logging.getLogger(__name__)

PIN_FILENAME = "pairing-pin"
TOKENS_FILENAME = "paired-tokens"
_PIN = re.compile(r"[0-9]{6}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, mode 0600 from the moment it exists."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_pin(data_dir: str | Path) -> str | None:
    """The PIN kept in ``data_dir``, or None if there is none yet (or it is not six digits)."""
    path = Path(data_dir) / PIN_FILENAME
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(str(path), f"cannot read the pairing PIN: {exc}") from None
    return text if _PIN.fullmatch(text) else None


def load_or_create_pin(data_dir: str | Path) -> str:
    """The data directory's PIN; made (and kept, mode 0600) on the first call."""
    data_dir = Path(data_dir)
    pin = read_pin(data_dir)
    path = data_dir / PIN_FILENAME
    if pin is None:
        if path.exists():
            log.warning("%s did not hold six digits; made a new pairing PIN", path)
        pin = new_pin()
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, pin + "\n")
    elif path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # someone loosened it: the PIN is the key to the controls
    return pin


class TokenFile:
    """The paired tokens' SHA-256 digests in ``data_dir/paired-tokens``; what ``web.access`` keeps tokens in."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / TOKENS_FILENAME
        self._lock = threading.Lock()

    def digests(self) -> set[str]:
        try:
            lines = self.path.read_text("ascii").split()
        except FileNotFoundError:
            return set()
        except UnicodeDecodeError:
            log.warning("%s is damaged; no tablet is paired until it pairs again", self.path)
            return set()
        return {line for line in lines if _DIGEST.fullmatch(line)}

    def add(self, digest: str) -> None:
        """Keep one more digest; OSError (disk full, read-only) when it cannot be saved."""
        if not _DIGEST.fullmatch(digest):
            raise ValueError("a token digest is 64 lowercase hex digits")
        with self._lock:
            kept = self.digests() | {digest}
            _write_private(self.path, "".join(f"{d}\n" for d in sorted(kept)))

    def revoke_all(self) -> int:
        """Forget every paired token; returns how many there were."""
        with self._lock:
            count = len(self.digests())
            _write_private(self.path, "")
            return count


def run(args) -> int:
    """Print the pairing PIN of the configured data directory."""
    import sys

    from backrep.config import load_config

    config = load_config(args.config, required=args.config is not None)
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else config.resolved_data_dir()
    pin = read_pin(data_dir)
    if pin is None:
        print(f"backrep: no pairing PIN in {data_dir} yet: `backrep serve` makes one when it first starts "
              f"(a service's data directory is /var/lib/backrep: --data-dir /var/lib/backrep)", file=sys.stderr)
        return 1
    print(pin)
    return 0
