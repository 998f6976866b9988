"""Recordings: one sensor's samples in a UTF-8 CSV file, format version 1 (shared/interfaces.md).

```
# backrep-recording: 1
# rate_hz: 100
t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps
12.000000,0.01234,-0.02345,0.99876,0.1234,-0.2345,0.0123
```

The reader is strict because a recording is evidence: a file that breaks the format is refused
with an ``InputFileError`` naming the file, the 1-based line and what is wrong, never half-read.
There is one parser, ``iter_recording_chunks``: it validates whole blocks of rows with numpy
and only scans a block line by line to find the exact line and reason once numpy has refused it.
``read_recording`` is that parser run to the end.

Tolerated on purpose: a UTF-8 byte order mark before the first line, CRLF line ends, blank
lines after the last sample, gaps in time (lost samples), extra columns after the seven.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backrep.errors import InputFileError

FORMAT_VERSION = 1
COLUMNS: tuple[str, ...] = ("t_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps")
HEADER = ",".join(COLUMNS)
SIGNATURE = f"# backrep-recording: {FORMAT_VERSION}"
SIGNATURE_KEY = "backrep-recording"
#: Metadata keys something here reads: one given twice is ambiguous, and refused. Any other
#: key is ignored, as shared/interfaces.md says a reader does with keys it does not know.
READ_KEYS = frozenset({SIGNATURE_KEY, "rate_hz", "exercise", "side"})

#: A line longer than this is not a sample row; reading stops there instead of filling memory.
_MAX_LINE_BYTES = 64 * 1024
#: A decimal number in ASCII digits (``\d`` alone takes any script's, which ``float()`` reads).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]+")
_NON_FINITE_WORDS = {"nan", "inf", "infinity"}
_OTHER_DELIMITERS = ((";", "semicolons"), ("\t", "tabs"), ("|", "bars"))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, eq=False)
class Recording:
    """A whole recording in memory: ``t_s`` (N,) s, ``accel_g`` (N, 3) g, ``gyro_dps`` (N, 3) °/s."""

    path: str
    metadata: dict[str, str]
    t_s: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray

    def __post_init__(self) -> None:
        n = np.shape(self.t_s)[0] if np.ndim(self.t_s) == 1 else -1
        if n < 0 or np.shape(self.accel_g) != (n, 3) or np.shape(self.gyro_dps) != (n, 3):
            raise ValueError(
                f"Recording needs t_s (N,), accel_g (N, 3), gyro_dps (N, 3); got "
                f"{np.shape(self.t_s)}, {np.shape(self.accel_g)}, {np.shape(self.gyro_dps)}"
            )

    @property
    def samples(self) -> int:
        return len(self.t_s)

    @property
    def rate_hz(self) -> float | None:
        """The metadata's ``rate_hz`` when it is a positive number, else 1 / the median step.

        None only for a single sample without a usable ``rate_hz``.
        """
        return rate_hz_of(self.metadata, self.t_s)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0

    @property
    def lost_samples(self) -> int:
        return count_lost_samples(self.t_s, self.rate_hz)


@dataclass(frozen=True, eq=False)
class Chunk:
    """Consecutive rows of a recording; ``first_line`` is the 1-based file line of the first row."""

    t_s: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray
    first_line: int

    def __len__(self) -> int:
        return len(self.t_s)


def rate_hz_of(metadata: dict[str, str], t_s: np.ndarray) -> float | None:
    """The sample rate a recording declares, or failing that the one its times show."""
    try:
        declared = float(metadata.get("rate_hz", ""))
    except ValueError:
        declared = math.nan
    if math.isfinite(declared) and declared > 0:
        return declared
    if len(t_s) < 2:
        return None
    return float(1.0 / np.median(np.diff(t_s)))


def count_lost_samples(t_s: np.ndarray, rate_hz: float | None) -> int:
    """Samples missing from gaps in ``t_s``: a step of k periods (k >= 2, rounded) lost k - 1."""
    if rate_hz is None or len(t_s) < 2:
        return 0
    periods = np.rint(np.diff(t_s) * rate_hz)
    lost = float(np.sum(periods[periods >= 2] - 1))
    return int(lost) if math.isfinite(lost) else sys.maxsize   # a clock that leapt ~1e308 s


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Head:
    """What precedes the samples, and where they start."""

    metadata: dict[str, str]
    n_columns: int
    data_offset: int
    first_data_line: int


def _open_for_reading(path: str):
    """The file, open; a pipe or a device is refused, since a recording is read twice (the
    head, then the rows) and a pipe can be read only once."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        mode = None                     # opening it says what is wrong
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        # before opening: opening a pipe waits for a writer
        raise InputFileError(path, "not a regular file (a pipe or a device): give a recording file's path")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a directory, not a recording file") from None
    except PermissionError:
        raise InputFileError(path, "permission denied") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot open: {exc.strerror or exc}") from None


def _read_raw_line(path: str, f, line_no: int) -> bytes:
    try:
        raw = f.readline(_MAX_LINE_BYTES)
    except IsADirectoryError:
        raise InputFileError(path, "is a directory, not a recording file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}", line_no) from None
    if len(raw) == _MAX_LINE_BYTES and not raw.endswith(b"\n"):
        if b"\0" in raw:
            raise InputFileError(path, "contains NUL bytes: a binary file, not a CSV recording", line_no)
        raise InputFileError(path, f"line longer than {_MAX_LINE_BYTES} bytes: not a recording row", line_no)
    return raw


def _decoded(path: str, raw: bytes, line_no: int) -> str:
    """One line as text without its line end; NUL bytes and bad UTF-8 are refused."""
    if b"\0" in raw:
        raise InputFileError(path, "contains NUL bytes: a binary file, not a CSV recording", line_no)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", line_no
        ) from None
    return text.rstrip("\r\n")


def _check_signature(path: str, text: str) -> None:
    expected = f"not a backrep recording: the first line must be '{SIGNATURE}'"
    if not text.startswith("#"):
        raise InputFileError(path, expected, 1)
    key, sep, value = text[1:].partition(":")
    if not sep or key.strip() != SIGNATURE_KEY:
        raise InputFileError(path, f"{expected}, found {_shown(text)}", 1)
    value = value.strip()
    if value == str(FORMAT_VERSION):
        return
    if value.isascii() and value.isdigit() and int(value) > FORMAT_VERSION:
        raise InputFileError(
            path,
            f"recording format version {int(value)} is newer than this backrep reads "
            f"(version {FORMAT_VERSION}); update backrep",
            1,
        )
    raise InputFileError(
        path, f"unknown recording format version {_shown(value)}; this backrep reads version {FORMAT_VERSION}", 1
    )


def _metadata_item(path: str, text: str, line_no: int) -> tuple[str, str]:
    key, sep, value = text[1:].partition(":")
    key = key.strip()
    if not sep or not key:
        raise InputFileError(path, f"malformed metadata line: expected '# key: value', found {_shown(text)}", line_no)
    return key, value.strip()


def _looks_like_numbers(fields: list[str]) -> bool:
    return all(_NUMBER.fullmatch(f.strip()) for f in fields if f.strip()) and any(f.strip() for f in fields)


def _other_delimiter(text: str) -> str | None:
    for delimiter, name in _OTHER_DELIMITERS:
        if delimiter in text:
            return name
    return None


def _checked_header(path: str, text: str, line_no: int) -> int:
    """The number of columns, once the header row is the seven names in order (then any others)."""
    if not text.strip():
        raise InputFileError(path, f"expected the header row '{HEADER}', found an empty line", line_no)
    names = [name.strip() for name in _fields(text)]
    if len(names) == 1 and (delimiter := _other_delimiter(text)):
        raise InputFileError(path, f"expected comma-separated values, found {delimiter} in the header row", line_no)
    if tuple(names[: len(COLUMNS)]) == COLUMNS:
        return len(names)
    if set(COLUMNS) <= set(names):
        raise InputFileError(
            path, f"header columns in the wrong order: expected '{HEADER}' first, found {_shown(text)}", line_no
        )
    if _looks_like_numbers(names):
        raise InputFileError(path, f"missing header row: expected '{HEADER}' before the samples", line_no)
    raise InputFileError(path, f"wrong header row: expected '{HEADER}', found {_shown(text)}", line_no)


def _refuse_binary(path: str, f) -> None:
    """Say "binary" for a file whose start holds NUL bytes, rather than its first odd byte."""
    try:
        start = f.read(8192)
        f.seek(0)
    except OSError:
        return  # reading line by line reports it with its line number
    if b"\0" in start:
        line_no = start.count(b"\n", 0, start.index(b"\0")) + 1
        raise InputFileError(path, "contains NUL bytes: a binary file, not a CSV recording", line_no)


def _read_head(path: str) -> _Head:
    with _open_for_reading(path) as f:
        _refuse_binary(path, f)
        metadata: dict[str, str] = {}
        line_no = 0
        while True:
            line_no += 1
            raw = _read_raw_line(path, f, line_no)
            if not raw:
                if line_no == 1:
                    raise InputFileError(path, f"the file is empty (expected '{SIGNATURE}' on the first line)", 1)
                raise InputFileError(path, f"no header row: expected '{HEADER}' after the metadata", line_no)
            text = _decoded(path, raw, line_no)
            if line_no == 1:
                text = text.removeprefix("\ufeff")
                _check_signature(path, text)
                metadata[SIGNATURE_KEY] = str(FORMAT_VERSION)
                continue
            if text.startswith("#"):
                key, value = _metadata_item(path, text, line_no)
                if key in metadata:
                    if key in READ_KEYS:
                        raise InputFileError(path, f"metadata key {key!r} appears twice", line_no)
                    continue    # a key this reader does not use: ignored, as the format says
                metadata[key] = value
                continue
            n_columns = _checked_header(path, text, line_no)
            return _Head(metadata, n_columns, f.tell(), line_no + 1)


def _read_block(path: str, f, rows: int, first_line: int) -> tuple[list[bytes], InputFileError | None]:
    """Up to ``rows`` raw lines; blank lines that end the file are dropped, others kept for checking.

    A line that cannot be read (too long to be a row) after some that could is handed back as
    the refusal to raise once those lines are checked: the first fault in the file is the one
    reported, whatever the block size.
    """
    lines: list[bytes] = []
    try:
        return _read_lines(path, f, rows, first_line, lines), None
    except InputFileError as refusal:
        if not lines:
            raise
        return lines, refusal


def _read_lines(path: str, f, rows: int, first_line: int, lines: list[bytes]) -> list[bytes]:
    for _ in range(rows):
        raw = _read_raw_line(path, f, first_line + len(lines))
        if not raw:
            break
        lines.append(raw)
    if lines and not lines[-1].strip():
        # Blank lines are refused among samples but allowed at the end of the file: look ahead.
        while True:
            raw = _read_raw_line(path, f, first_line + len(lines))
            if not raw:
                while lines and not lines[-1].strip():
                    lines.pop()
                break
            lines.append(raw)
            if raw.strip():
                break
    return lines


def _fields(text: str) -> list[str]:
    """A row's fields. Columns beyond the seven may hold CSV-quoted text with commas in it."""
    return next(csv.reader([text])) if '"' in text else text.split(",")


def _row_values(path: str, text: str, line_no: int, n_columns: int) -> list[float]:
    """One row's seven numbers, or the reason it has none; the authority on what a row may hold."""
    if not text.strip():
        raise InputFileError(path, "empty line among the samples", line_no)
    if text.startswith("#"):
        raise InputFileError(path, "a '#' line after the header row: metadata comes before the header", line_no)
    fields = _fields(text)
    if len(fields) == 1 and (delimiter := _other_delimiter(text)):
        raise InputFileError(path, f"expected comma-separated values, found {delimiter}", line_no)
    if len(fields) < n_columns:
        raise InputFileError(path, f"short row: {len(fields)} values, the header has {n_columns} columns", line_no)
    if len(fields) > n_columns:
        raise InputFileError(path, f"too many values: {len(fields)}, the header has {n_columns} columns", line_no)
    values = []
    for name, field_text in zip(COLUMNS, fields):
        stripped = field_text.strip()
        if stripped.lower().lstrip("+-") in _NON_FINITE_WORDS:
            raise InputFileError(path, f"{name} is {_shown(stripped)}: not a finite number", line_no)
        if not _NUMBER.fullmatch(stripped):
            raise InputFileError(path, f"{name} is not a number: {_shown(stripped)}", line_no)
        value = float(stripped)
        if not math.isfinite(value):
            raise InputFileError(path, f"{name} is {_shown(stripped)}: not a finite number", line_no)
        values.append(value)
    return values


def _block_values(path: str, lines: list[bytes], first_line: int, n_columns: int) -> np.ndarray:
    """The (n, 7) numbers of a block of rows: numpy for speed, line by line to explain a refusal."""
    blob = b"".join(lines)
    if b"\0" in blob:
        line_no = first_line + blob.count(b"\n", 0, blob.index(b"\0"))
        raise InputFileError(path, "contains NUL bytes: a binary file, not a CSV recording", line_no)
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        for i, raw in enumerate(lines):
            _decoded(path, raw, first_line + i)
        raise  # not reached: some line fails to decode
    commas = np.fromiter((raw.count(b",") for raw in lines), dtype=np.int64, count=len(lines))
    values = None
    if np.all(commas == n_columns - 1):
        try:
            values = np.loadtxt(
                io.StringIO(text), delimiter=",", comments=None, usecols=range(len(COLUMNS)),
                dtype=np.float64, ndmin=2, quotechar=None,
            )
        except ValueError:
            values = None
    if values is None or values.shape != (len(lines), len(COLUMNS)):
        values = np.array(
            [_row_values(path, raw.decode("utf-8").rstrip("\r\n"), first_line + i, n_columns)
             for i, raw in enumerate(lines)],
            dtype=np.float64,
        ).reshape(len(lines), len(COLUMNS))
    finite = np.isfinite(values)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        shown = lines[row].decode("utf-8").split(",")[column].strip()
        raise InputFileError(path, f"{COLUMNS[column]} is {_shown(shown)}: not a finite number", first_line + int(row))
    return values


def _check_time(path: str, t_s: np.ndarray, first_line: int, previous_t_s: float | None) -> None:
    """Refuse the first row whose time is not later than the row before it."""
    if previous_t_s is None:
        steps, offset = np.diff(t_s), 1
    else:
        steps, offset = np.diff(t_s, prepend=previous_t_s), 0
    bad = np.flatnonzero(~(steps > 0))
    if bad.size == 0:
        return
    i = int(bad[0]) + offset
    before = float(t_s[i - 1]) if i > 0 else float(previous_t_s)
    now = float(t_s[i])
    if now == before:
        raise InputFileError(path, f"t_s repeats: {now!r} again; time must increase", first_line + i)
    raise InputFileError(path, f"t_s goes backwards: {now!r} after {before!r}", first_line + i)


def _checked_values(path: str, lines: list[bytes], first_line: int, n_columns: int,
                    previous_t_s: float | None) -> np.ndarray:
    """A block's values with its times checked; of several faults, the first in the file is raised.

    The block is checked kind by kind (NUL bytes, UTF-8, each row, finite, time), so a refusal
    may name a later line than a fault of another kind before it: the rows before the refused
    one are checked again on their own, and an earlier fault wins. At most one level per kind.
    """
    try:
        values = _block_values(path, lines, first_line, n_columns)
    except InputFileError as refusal:
        before = (refusal.line or first_line) - first_line
        if 0 < before < len(lines):
            _checked_values(path, lines[:before], first_line, n_columns, previous_t_s)
        raise
    _check_time(path, values[:, 0], first_line, previous_t_s)
    return values


def _chunks(path: str, head: _Head, rows: int) -> Iterator[Chunk]:
    with _open_for_reading(path) as f:
        f.seek(head.data_offset)
        line_no = head.first_data_line
        previous_t_s: float | None = None
        while True:
            lines, refusal = _read_block(path, f, rows, line_no)
            if not lines:
                break
            values = _checked_values(path, lines, line_no, head.n_columns, previous_t_s)
            t_s = np.ascontiguousarray(values[:, 0])
            previous_t_s = float(t_s[-1])
            yield Chunk(t_s, np.ascontiguousarray(values[:, 1:4]), np.ascontiguousarray(values[:, 4:7]), line_no)
            line_no += len(lines)
            if refusal is not None:
                raise refusal
        if previous_t_s is None:
            raise InputFileError(path, "no samples after the header row", head.first_data_line - 1)


def iter_recording_chunks(path: str | os.PathLike, rows: int = 4096) -> tuple[dict[str, str], Iterator[Chunk]]:
    """``(metadata, chunks)``: the metadata read and checked now, the samples streamed in blocks.

    Memory stays bounded by ``rows``. Every block is validated before it is yielded (times
    increase across block boundaries too); a malformed row raises ``InputFileError`` from the
    iterator when it is reached, so a consumer must not act on a file it has not finished.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    path = os.fspath(path)
    head = _read_head(path)
    return dict(head.metadata), _chunks(path, head, rows)


def read_recording(path: str | os.PathLike) -> Recording:
    """The whole recording, validated; ``InputFileError`` names the file, line and fault otherwise."""
    path = os.fspath(path)
    metadata, chunks = iter_recording_chunks(path, rows=65536)
    parts = list(chunks)
    return Recording(
        path=path,
        metadata=metadata,
        t_s=np.concatenate([c.t_s for c in parts]),
        accel_g=np.concatenate([c.accel_g for c in parts]),
        gyro_dps=np.concatenate([c.gyro_dps for c in parts]),
    )


def _shown(text: str, limit: int = 60) -> str:
    """Quote a piece of a file for a message, shortened so the message stays one readable line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --------------------------------------------------------------------------- writing


class RecordingWriter:
    """Writes a version 1 recording as samples arrive, so a pulled plug loses at most ``sync_every_s``.

    Rows reach the file only whole and are flushed and fsynced once ``sync_every_s`` of
    sample time has passed since the last sync, and on ``close()``: a reader sees a valid file
    up to the last sync at any moment. Times are checked after formatting (``t_s`` with six
    decimals), so what is written always reads back strictly increasing. A batch writer (the
    simulator) passes ``sync_every_s=float("inf")`` to sync once, on close.
    """

    def __init__(self, path: str | os.PathLike, metadata: dict | None = None, sync_every_s: float = 1.0,
                 replace: bool = True) -> None:
        """``replace=False`` refuses (``FileExistsError``) a path that is already a file."""
        self.path = os.fspath(path)
        self.sync_every_s = sync_every_s
        head = [SIGNATURE]
        for key, value in (metadata or {}).items():
            key, value = str(key), str(value)
            if key == SIGNATURE_KEY:
                if value != str(FORMAT_VERSION):
                    raise ValueError(f"this writer writes recording format {FORMAT_VERSION}, not {value!r}")
                continue
            if not _METADATA_KEY.fullmatch(key):
                raise ValueError(f"metadata key {key!r} must be letters, digits, '_', '-' or '.'")
            if any(c in value for c in "\n\r\0"):
                raise ValueError(f"metadata value for {key!r} must be one line without NUL characters")
            head.append(f"# {key}: {value.strip()}")
        head.append(HEADER)
        self._file = open(self.path, "wb" if replace else "xb", buffering=0)
        self._pending: list[bytes] = []
        self._last_t_s: float | None = None
        self._synced_t_s: float | None = None
        self._closed = False
        self._directory_synced = False
        self._write_all(("\n".join(head) + "\n").encode("utf-8"))

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, t_s, accel_g, gyro_dps) -> None:
        """Append samples: ``t_s`` (N,) s, ``accel_g`` (N, 3) g, ``gyro_dps`` (N, 3) °/s."""
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed RecordingWriter")
        t_s, accel_g, gyro_dps = (np.asarray(a, dtype=np.float64) for a in (t_s, accel_g, gyro_dps))
        if t_s.ndim == 0:  # one sample given as a scalar time and two 3-vectors
            t_s, accel_g, gyro_dps = t_s.reshape(1), accel_g.reshape(1, -1), gyro_dps.reshape(1, -1)
        n = len(t_s)
        if t_s.ndim != 1 or accel_g.shape != (n, 3) or gyro_dps.shape != (n, 3):
            raise ValueError(f"need t_s (N,), accel_g (N, 3), gyro_dps (N, 3); got {t_s.shape}, "
                             f"{np.shape(accel_g)}, {np.shape(gyro_dps)}")
        if n == 0:
            return
        for name, values in (("t_s", t_s), ("accel_g", accel_g), ("gyro_dps", gyro_dps)):
            if not np.isfinite(values).all():
                raise ValueError(f"{name} holds NaN or infinity; a recording holds finite numbers only")
        t_text = [f"{v:.6f}" for v in t_s]
        written_t_s = np.array(t_text, dtype=np.float64)
        steps = np.diff(written_t_s, prepend=self._last_t_s) if self._last_t_s is not None else np.diff(written_t_s)
        if not (steps > 0).all():
            raise ValueError("t_s must increase strictly, by at least 1 µs, from sample to sample")
        rows = [
            f"{t},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},{g[0]:.4f},{g[1]:.4f},{g[2]:.4f}\n"
            for t, a, g in zip(t_text, accel_g.tolist(), gyro_dps.tolist())
        ]
        self._pending.append("".join(rows).encode("ascii"))
        self._last_t_s = float(written_t_s[-1])
        if self._synced_t_s is None:
            self._synced_t_s = float(written_t_s[0])
        # 1 µs of slack: the clock is written to 1 µs, and 2.09 - 1.09 is 0.9999999999999998
        if self._last_t_s - self._synced_t_s >= self.sync_every_s - 1e-6:
            self._sync()
            self._synced_t_s = self._last_t_s

    def close(self) -> None:
        """Write what is pending, fsync, close; safe to call twice."""
        if self._closed:
            return
        try:
            self._sync()
        finally:
            self._closed = True
            self._file.close()

    def _sync(self) -> None:
        self._write_all(b"".join(self._pending))
        self._pending.clear()
        os.fsync(self._file.fileno())
        if not self._directory_synced:
            _fsync_directory_of(self.path)  # so a new file's name survives the pulled plug too
            self._directory_synced = True

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._file.write(view):]


def _fsync_directory_of(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return  # not every platform or file system lets a directory be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_recording(path: str | os.PathLike, recording: Recording) -> None:
    """Write ``recording`` to ``path`` with its metadata."""
    with RecordingWriter(path, recording.metadata) as writer:
        writer.write(recording.t_s, recording.accel_g, recording.gyro_dps)


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class Labels:
    """What a person or the simulator says happened in a recording (the ``.json`` sidecar)."""

    exercise: str
    reps: int
    holds_s: tuple[float, ...] = ()
    rep_spans: tuple[tuple[float, float], ...] = ()
    hold_spans: tuple[tuple[float, float], ...] = ()
    side: str | None = None
    source: str | None = None
    extra: dict = field(default_factory=dict)


def labels_path_for(csv_path: str | os.PathLike) -> Path:
    return Path(csv_path).with_suffix(".json")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _spans(path: str, data: dict, key: str) -> tuple[tuple[float, float], ...]:
    spans = data.get(key, [])
    if not isinstance(spans, list) or not all(
        isinstance(s, list) and len(s) == 2 and all(map(_is_number, s)) and s[0] <= s[1] for s in spans
    ):
        raise InputFileError(path, f"{key!r} must be a list of [start_s, end_s] pairs with start <= end")
    return tuple((float(a), float(b)) for a, b in spans)


def read_labels(csv_path: str | os.PathLike) -> Labels | None:
    """The labels beside ``csv_path`` (same name, ``.json``), or None when there are none."""
    path = str(labels_path_for(csv_path))
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                             raw.count(b"\n", 0, exc.start) + 1) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise InputFileError(path, "JSON nested too deeply to be labels") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "labels must be a JSON object")
    exercise = data.get("exercise")
    if not isinstance(exercise, str) or not exercise:
        raise InputFileError(path, "'exercise' must be an exercise id such as 'knee_to_chest'")
    reps = data.get("reps")
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < 0:
        raise InputFileError(path, "'reps' must be a whole number, 0 or more")
    holds_s = data.get("holds_s", [])
    if not isinstance(holds_s, list) or not all(_is_number(h) and h >= 0 for h in holds_s):
        raise InputFileError(path, "'holds_s' must be a list of hold lengths in seconds")
    side = data.get("side")
    if side not in (None, "left", "right"):
        raise InputFileError(path, f"'side' must be 'left' or 'right', not {side!r}")
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        raise InputFileError(path, "'source' must be a string")
    known = {"exercise", "reps", "holds_s", "rep_spans", "hold_spans", "side", "source"}
    return Labels(
        exercise=exercise,
        reps=reps,
        holds_s=tuple(float(h) for h in holds_s),
        rep_spans=_spans(path, data, "rep_spans"),
        hold_spans=_spans(path, data, "hold_spans"),
        side=side,
        source=source,
        extra={k: v for k, v in data.items() if k not in known},
    )
