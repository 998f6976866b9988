"""The recording reader fuzzed, beyond what tests/test_recording.py already does.

tests/test_recording.py fuzzes ``read_recording`` with short random byte strings and byte-level
edits of a five-row file, and checks only the outcome's type. Here:

- random bytes, with and without a valid head, through the streaming reader at random chunk
  sizes: the same outcome as the whole read (same samples, or the same file, line and reason);
- line- and field-level mutations of excerpts of the labelled recordings: lines deleted,
  repeated, swapped, inserted; fields deleted, added, replaced by huge numbers, non-ASCII digits,
  words; delimiters swapped; line ends changed; the file cut short anywhere;
- a two-million-row file, made by a generator in tmp_path, streamed by ``iter_recording_chunks``
  with its memory measured: the peak stays a small fraction of the file.

Every outcome is a ``Recording`` (or its chunks) or an ``InputFileError`` whose message is one
line that starts with the file's path; never another exception, never a half-read file.
"""
from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrep.errors import InputFileError
from backrep.recording import HEADER, iter_recording_chunks, read_recording

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = sorted((ROOT / "recordings").glob("*.csv"))
SIG = "# backrep-recording: 1\n"
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _excerpt(path: Path, start: int, rows: int) -> list[bytes]:
    """The head of a labelled recording (signature, metadata, header) and ``rows`` of its samples."""
    lines = path.read_bytes().splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if not line.startswith(b"#"))
    body = lines[header + 1:]
    start %= max(1, len(body) - rows)
    return lines[:header + 1] + body[start:start + rows]




def outcome_whole(path: Path):
    try:
        rec = read_recording(path)
    except InputFileError as error:
        return error
    return rec


def outcome_streamed(path: Path, rows: int):
    """(metadata, t_s, accel_g, gyro_dps) from the chunks, or the InputFileError they raised."""
    try:
        metadata, chunks = iter_recording_chunks(path, rows=rows)
        parts = list(chunks)
    except InputFileError as error:
        return error
    for i, chunk in enumerate(parts):
        assert 1 <= len(chunk) <= rows
        if i:
            assert chunk.first_line == parts[i - 1].first_line + len(parts[i - 1])
    return (metadata, np.concatenate([c.t_s for c in parts]), np.concatenate([c.accel_g for c in parts]),
            np.concatenate([c.gyro_dps for c in parts]))


def check_refusal(error: InputFileError, path: Path, content: bytes) -> None:
    message = str(error)
    assert error.path == str(path)
    assert message.startswith(f"{path}:") and error.reason
    assert "\n" not in message and "\r" not in message and len(message) < len(str(path)) + 300, message
    if error.line is not None:
        assert 1 <= error.line <= content.count(b"\n") + 2  # the line after the last, for "missing"


def check_same_outcome(path: Path, content: bytes, rows: int) -> None:
    whole = outcome_whole(path)
    streamed = outcome_streamed(path, rows)
    if isinstance(whole, InputFileError):
        check_refusal(whole, path, content)
        assert isinstance(streamed, InputFileError), f"the whole read refused ({whole}), the chunks did not"
        assert (streamed.line, streamed.reason) == (whole.line, whole.reason)
        return
    assert not isinstance(streamed, InputFileError), f"the chunks refused ({streamed}), the whole read did not"
    metadata, t_s, accel_g, gyro_dps = streamed
    assert metadata == whole.metadata
    np.testing.assert_array_equal(t_s, whole.t_s)
    np.testing.assert_array_equal(accel_g, whole.accel_g)
    np.testing.assert_array_equal(gyro_dps, whole.gyro_dps)
    # Read whole, never half: every non-blank line after the header is a sample, in increasing time.
    lines = content.split(b"\n")
    header_index = next(i for i, line in enumerate(lines) if not line.startswith((b"#", b"\xef\xbb\xbf#")))
    assert whole.samples == sum(1 for line in lines[header_index + 1:] if line.strip())
    assert np.all(np.diff(whole.t_s) > 0)
    assert np.isfinite(whole.accel_g).all() and np.isfinite(whole.gyro_dps).all()


# --------------------------------------------------------------------------- random bytes


_HEADS = [b"", SIG.encode(), (SIG + "# rate_hz: 100\n" + HEADER + "\n").encode(),
          (SIG + "# rate_hz: 100\n" + HEADER + ",temp_c\n").encode()]


@settings(FUZZ, max_examples=200)
@given(head=st.sampled_from(_HEADS), content=st.binary(max_size=4000), rows=st.integers(1, 9))
def test_random_bytes_read_whole_or_streamed_give_the_same_outcome(tmp_path, head, content, rows):
    path = tmp_path / "random.csv"
    path.write_bytes(head + content)
    check_same_outcome(path, head + content, rows)


# --------------------------------------------------------------------------- mutated recordings


_ODD_FIELDS = [
    "", " ", "1e308", "1e309", "-1e309", "9" * 400, "0." + "0" * 400 + "1", "1" * 70_000,
    "\u0661\u0662.\u0665",  # Arabic-Indic digits
    "\uff11",  # fullwidth 1
    "\u22121.0",  # a minus sign that is not '-'
    "1\u00a0", "\u20281", "1_000", "0x10", "+.5", "5.", ".", "-", "e5", "1e", "nan", "-inf", "Infinity",
    "\u221e", "caf\u00e9", "\U0001f600", "\ufeff0.1", '"0.1"', "0.1#x", "1,2",
]
_DELIMITERS = [";", "\t", "|", " ", ", ", ",,"]


@st.composite
def _mutations(draw):
    kind = draw(st.sampled_from(["delete line", "repeat line", "swap lines", "insert line", "delete field",
                                 "insert field", "replace field", "delimiter in line", "delimiter in file",
                                 "line ends", "truncate", "insert text"]))
    return kind, draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), draw(st.sampled_from(_ODD_FIELDS)), \
        draw(st.sampled_from(_DELIMITERS)), draw(st.text(max_size=12))


def _mutate(lines: list[bytes], mutation) -> list[bytes]:
    kind, a, b, odd, delimiter, text = mutation
    lines = list(lines)
    if not lines:
        return [text.encode()]
    i, j = a % len(lines), b % len(lines)
    if kind == "delete line":
        del lines[i]
    elif kind == "repeat line":
        lines.insert(i, lines[i])
    elif kind == "swap lines":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "insert line":
        lines.insert(i, random.Random(b).choice([b"\n", b"# note: x\n", HEADER.encode() + b"\n", b"#\n",
                                                 text.encode() + b"\n", b"\r\n", b"  \n"]))
    elif kind in ("delete field", "insert field", "replace field"):
        fields = lines[i].rstrip(b"\r\n").split(b",")
        k = b % len(fields)
        if kind == "delete field":
            del fields[k]
        elif kind == "insert field":
            fields.insert(k, odd.encode())
        else:
            fields[k] = odd.encode()
        lines[i] = b",".join(fields) + b"\n"
    elif kind == "delimiter in line":
        lines[i] = lines[i].replace(b",", delimiter.encode())
    elif kind == "delimiter in file":
        lines = [line.replace(b",", delimiter.encode()) for line in lines]
    elif kind == "line ends":
        end = [b"\r\n", b"\r", b"", b"\n\n"][b % 4]
        lines[i] = lines[i].rstrip(b"\r\n") + end
    elif kind == "truncate":
        blob = b"".join(lines)
        return [blob[: a % (len(blob) + 1)]]
    else:  # insert text anywhere in a line
        line = lines[i]
        k = b % (len(line) + 1)
        lines[i] = line[:k] + text.encode() + line[k:]
    return lines


@settings(FUZZ, max_examples=400)
@given(recording=st.sampled_from(RECORDINGS), start=st.integers(0, 10**6), rows=st.integers(1, 60),
       mutations=st.lists(_mutations(), min_size=1, max_size=4), chunk_rows=st.integers(1, 16))
def test_mutated_recordings_are_refused_with_one_line_or_read_whole(tmp_path, recording, start, rows, mutations,
                                                                    chunk_rows):
    lines = _excerpt(recording, start, rows)
    for mutation in mutations:
        lines = _mutate(lines, mutation)
    content = b"".join(lines)
    path = tmp_path / recording.name
    path.write_bytes(content)
    check_same_outcome(path, content, chunk_rows)


def test_the_labelled_recordings_read_the_same_streamed_in_odd_chunks():
    for recording in RECORDINGS[::4]:
        check_same_outcome(recording, recording.read_bytes(), 997)


# --------------------------------------------------------------------------- a huge file


HUGE_ROWS = 2_000_000
_ROW = ",0.01234,-0.02345,0.99876,0.1234,-0.2345,0.0123\n"


def _write_huge(path: Path, rows: int) -> int:
    """A valid recording of ``rows`` samples at 100 Hz, written 100 000 rows at a time; its size in bytes."""
    with open(path, "w") as f:
        f.write(SIG + "# rate_hz: 100\n# sensor: generated\n" + HEADER + "\n")
        for start in range(0, rows, 100_000):
            f.write("".join(f"{i / 100:.6f}{_ROW}" for i in range(start, min(rows, start + 100_000))))
    return path.stat().st_size


def _rss_bytes() -> int:
    """This process's resident memory now (not its peak, which earlier tests may have set)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_a_two_million_row_file_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "huge.csv"
    size = _write_huge(path, HUGE_ROWS)
    assert size > 100_000_000
    rss_start = rss_max = _rss_bytes()
    traced_chunks = 64  # tracemalloc triples the read's time: it watches the first blocks only
    tracemalloc.start()
    try:
        metadata, chunks = iter_recording_chunks(path)
        rows, last_t_s, biggest, line = 0, None, 0, 5
        for n, chunk in enumerate(chunks):
            assert chunk.first_line == line
            assert last_t_s is None or chunk.t_s[0] > last_t_s
            rows += len(chunk)
            line += len(chunk)
            last_t_s = float(chunk.t_s[-1])
            biggest = max(biggest, len(chunk))
            assert chunk.accel_g[-1].tolist() == [0.01234, -0.02345, 0.99876]
            if n == traced_chunks:
                _, peak_bytes = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            if n % 16 == 0:
                rss_max = max(rss_max, _rss_bytes())
    finally:
        tracemalloc.stop()
    rss_max = max(rss_max, _rss_bytes())
    assert metadata["sensor"] == "generated"
    assert rows == HUGE_ROWS and biggest == 4096
    assert last_t_s == pytest.approx((HUGE_ROWS - 1) / 100)
    # A block's allocations (numpy's arrays included) are a small fraction of the file, and the
    # process's resident memory, sampled all along, grows by far less than it: never held whole.
    assert peak_bytes < size / 20, (peak_bytes, size)
    assert rss_max - rss_start < size / 4, (rss_max - rss_start, size)
    print(f"\nhuge file: {size / 1e6:.0f} MB, {rows} rows, Python peak over {traced_chunks} blocks "
          f"{peak_bytes / 1e6:.1f} MB, resident memory grew {(rss_max - rss_start) / 1e6:.1f} MB at most")


def test_a_huge_file_with_a_bad_row_near_its_end_is_refused_naming_that_line(tmp_path):
    path = tmp_path / "huge-bad.csv"
    _write_huge(path, 300_000)
    with open(path, "a") as f:
        f.write("3000.000000,0.1,0.2,0.3,0.4,0.5\n")  # six values: short
    metadata, chunks = iter_recording_chunks(path)
    seen = 0
    with pytest.raises(InputFileError) as caught:
        for chunk in chunks:
            seen += len(chunk)
    assert caught.value.line == 4 + 300_000 + 1 and "short row" in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{4 + 300_000 + 1}: ")
    assert seen == 300_000 - 300_000 % 4096  # every block before the bad one; none after
