"""The recording format, version 1: what is read, what is refused and why, what is written."""
from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrep import recording as recording_module
from backrep.errors import InputFileError
from backrep.recording import (
    HEADER,
    Labels,
    Recording,
    RecordingWriter,
    count_lost_samples,
    iter_recording_chunks,
    read_labels,
    read_recording,
    write_recording,
)

ROW = "0.01234,-0.02345,0.99876,0.1234,-0.2345,0.0123"
SIG = "# backrep-recording: 1\n"
META = SIG + "# rate_hz: 100\n"
GOOD_ROWS = "".join(f"{i / 100:.6f},{ROW}\n" for i in range(5))
#: Lines: 1 signature, 2 rate_hz, 3 header, 4.. samples.
GOOD = (META + HEADER + "\n" + GOOD_ROWS).encode()


def _good_with_row(index: int, row: str) -> bytes:
    """GOOD with sample ``index`` (0-based, on line 4 + index) replaced by ``row``."""
    rows = GOOD_ROWS.splitlines()
    rows[index] = row
    return (META + HEADER + "\n" + "\n".join(rows) + "\n").encode()


#: (case, file content, line the error names or None, words the reason contains)
BAD_FILES = [
    ("empty", b"", 1, "empty"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 40, 3, "binary"),
    ("binary after header", GOOD + b"\x00\x01\x02\x03,\x00\n", 9, "binary"),
    ("latin-1 metadata", (SIG + "# sensor: caf\xe9\n" + HEADER + "\n" + GOOD_ROWS).encode("latin-1"), 2, "UTF-8"),
    ("latin-1 sample", _good_with_row(2, "0.02,0.1,0.1,1.0,0,0,0 \xb0").replace("\u00b0".encode(), b"\xb0"),
     6, "UTF-8"),
    ("no signature", (HEADER + "\n" + GOOD_ROWS).encode(), 1, "backrep-recording: 1"),
    ("wrong first line", ("# rate_hz: 100\n" + SIG + HEADER + "\n" + GOOD_ROWS).encode(), 1, "backrep-recording: 1"),
    ("future version", GOOD.replace(b"recording: 1", b"recording: 2"), 1, "newer than this backrep reads"),
    ("odd version", GOOD.replace(b"recording: 1", b"recording: one"), 1, "version"),
    ("malformed metadata", (SIG + "# just a comment\n" + HEADER + "\n" + GOOD_ROWS).encode(), 2, "malformed metadata"),
    ("duplicate metadata", (META + "# rate_hz: 200\n" + HEADER + "\n" + GOOD_ROWS).encode(), 3, "twice"),
    ("missing header", (META + GOOD_ROWS).encode(), 3, "missing header"),
    ("no header at all", META.encode(), 3, "no header row"),
    ("wrong header names", (META + "t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS).encode(), 3, "wrong header"),
    ("header in wrong order", GOOD.replace(b"ax_g,ay_g", b"ay_g,ax_g"), 3, "wrong order"),
    ("semicolons", GOOD.replace(b",", b";"), 3, "expected comma-separated values"),
    ("tabs", GOOD.replace(b",", b"\t"), 3, "expected comma-separated values"),
    ("semicolon row", _good_with_row(1, f"0.010000;{ROW.replace(',', ';')}"), 5, "expected comma-separated values"),
    ("text for a number", _good_with_row(1, "0.010000,0.1,abc,1.0,0,0,0"), 5, "ay_g is not a number"),
    ("NaN", _good_with_row(1, "0.010000,0.1,0.2,NaN,0,0,0"), 5, "az_g is 'NaN': not a finite number"),
    ("infinity", _good_with_row(2, "0.020000,0.1,0.2,1.0,inf,0,0"), 6, "gx_dps is 'inf': not a finite number"),
    ("overflow", _good_with_row(2, "0.020000,0.1,0.2,1.0,1e999,0,0"), 6, "not a finite number"),
    ("empty value", _good_with_row(3, "0.030000,0.1,,1.0,0,0,0"), 7, "ay_g is not a number"),
    # Digits of another script are digits to Python's float(), not in a recording.
    ("Arabic-Indic digits", _good_with_row(1, "0.010000,\u0660.\u0661,0.2,1.0,0,0,0"), 5, "ax_g is not a number"),
    ("fullwidth digits", _good_with_row(2, "0.020000,0.1,0.2,\uff11.0,0,0,0"), 6, "az_g is not a number"),
    ("short row", _good_with_row(3, "0.030000,0.1,0.2"), 7, "short row"),
    ("long row", _good_with_row(3, f"0.030000,{ROW},7"), 7, "too many values"),
    ("time repeats", _good_with_row(2, f"0.010000,{ROW}"), 6, "t_s repeats"),
    ("time goes backwards", _good_with_row(3, f"0.005000,{ROW}"), 7, "t_s goes backwards"),
    ("blank line among samples", _good_with_row(2, ""), 6, "empty line"),
    ("metadata after header", _good_with_row(2, "# sensor: mpu6050"), 6, "before the header"),
    ("no samples", (META + HEADER + "\n").encode(), 3, "no samples"),
]


def _write(tmp_path: Path, content: bytes, name: str = "rec.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def _arrays(n: int, rate_hz: float = 100.0, t0_s: float = 0.0):
    rng = np.random.default_rng(n)
    t_s = t0_s + np.arange(n) / rate_hz
    return t_s, rng.normal(0, 1, (n, 3)), rng.normal(0, 50, (n, 3))


def _written(tmp_path: Path, n: int, name: str = "rec.csv", **metadata) -> tuple[str, tuple]:
    path = str(tmp_path / name)
    arrays = _arrays(n)
    with RecordingWriter(path, metadata or {"rate_hz": 100}) as writer:
        writer.write(*arrays)
    return path, arrays


# --------------------------------------------------------------------------- reading good files


def test_reads_the_example_from_the_interface_document(tmp_path):
    path = _write(tmp_path, GOOD)
    rec = read_recording(path)
    assert rec.path == path
    assert rec.metadata == {"backrep-recording": "1", "rate_hz": "100"}
    assert rec.t_s.tolist() == [0.0, 0.01, 0.02, 0.03, 0.04]
    assert rec.accel_g.shape == (5, 3) and rec.gyro_dps.shape == (5, 3)
    assert rec.accel_g[0].tolist() == [0.01234, -0.02345, 0.99876]
    assert rec.gyro_dps[0].tolist() == [0.1234, -0.2345, 0.0123]
    assert rec.rate_hz == 100.0
    assert rec.duration_s == pytest.approx(0.04)


def test_extra_columns_unknown_metadata_crlf_bom_and_trailing_blank_lines_are_accepted(tmp_path):
    text = (SIG + "# sensor: mpu6050\n# future_key: anything: at all\n" + HEADER + ",temp_c,note\n"
            + "".join(f"{i / 100:.6f},{ROW},36.5,ok\n" for i in range(3)) + "\n  \n")
    path = _write(tmp_path, b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    rec = read_recording(path)
    assert rec.samples == 3
    assert rec.metadata["future_key"] == "anything: at all"
    assert rec.accel_g[2].tolist() == [0.01234, -0.02345, 0.99876]


def test_unknown_metadata_keys_are_ignored_however_written_and_extra_columns_however_quoted(tmp_path):
    # "a reader ignores keys it does not know" and "columns it does not know" (interfaces.md):
    # a key with a space, one given twice, and a note quoted the way Python's csv writes it.
    text = (SIG + "# recorded by: Jane\n# note: one\n# note: two\n" + HEADER + ",note\n"
            + "".join(f'{i / 100:.6f},{ROW},"left, then right"\n' for i in range(3)))
    rec = read_recording(_write(tmp_path, text.encode()))
    assert rec.samples == 3 and rec.metadata["recorded by"] == "Jane"
    assert rec.accel_g[2].tolist() == [0.01234, -0.02345, 0.99876]


def test_a_pipe_is_refused_as_not_a_file_not_misread(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError) as caught:
        read_recording(fifo)
    assert "not a regular file" in caught.value.reason


def test_gaps_in_time_are_lost_samples_not_errors(tmp_path):
    rows = "".join(f"{t:.6f},{ROW}\n" for t in (10.0, 10.01, 10.02, 10.06, 10.07))
    rec = read_recording(_write(tmp_path, (META + HEADER + "\n" + rows).encode()))
    assert rec.samples == 5
    assert rec.lost_samples == 3


def test_rate_comes_from_the_times_when_the_metadata_has_no_usable_rate(tmp_path):
    rows = "".join(f"{i * 0.04:.6f},{ROW}\n" for i in range(10))
    for head in (SIG, SIG + "# rate_hz: fast\n", SIG + "# rate_hz: -5\n"):
        rec = read_recording(_write(tmp_path, (head + HEADER + "\n" + rows).encode()))
        assert rec.rate_hz == pytest.approx(25.0)


def test_count_lost_samples_rounds_each_gap_to_whole_periods():
    t_s = np.array([0.0, 0.01, 0.021, 0.05, 0.06])  # jitter is not a loss; 0.029 s is 2 lost
    assert count_lost_samples(t_s, 100.0) == 2
    assert count_lost_samples(t_s[:1], 100.0) == 0


# --------------------------------------------------------------------------- refusing bad files


@pytest.mark.parametrize("case, content, line, reason", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_refused_naming_file_line_and_reason(tmp_path, case, content, line, reason):
    path = _write(tmp_path, content)
    with pytest.raises(InputFileError) as caught:
        read_recording(path)
    error = caught.value
    assert error.path == path
    assert error.line == line
    assert reason in error.reason
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(error).startswith(where)
    assert "\n" not in str(error)


def test_missing_file_and_directory_are_refused_by_name(tmp_path):
    with pytest.raises(InputFileError, match="no such file") as caught:
        read_recording(tmp_path / "absent.csv")
    assert caught.value.path == str(tmp_path / "absent.csv")
    with pytest.raises(InputFileError, match="directory"):
        read_recording(tmp_path)


def test_a_line_too_long_to_be_a_row_is_refused_without_reading_it_all(tmp_path):
    path = _write(tmp_path, GOOD + b"1" * 200_000 + b"\n")
    with pytest.raises(InputFileError, match="longer than") as caught:
        read_recording(path)
    assert caught.value.line == 9


@pytest.mark.parametrize("rows", [1, 2, 3, 7, 4096])
def test_error_lines_are_the_same_whatever_the_chunk_size(tmp_path, rows):
    path, _ = _written(tmp_path, 40)
    lines = Path(path).read_text().splitlines(keepends=True)
    # line 3 + 20 is sample 20; make it repeat the time of the sample before it
    lines[22] = lines[21]
    Path(path).write_text("".join(lines))
    metadata, chunks = iter_recording_chunks(path, rows=rows)
    with pytest.raises(InputFileError, match="repeats") as caught:
        list(chunks)
    assert caught.value.line == 23


# --------------------------------------------------------------------------- streaming


def test_chunks_carry_their_first_line_and_add_up_to_the_whole_read(tmp_path):
    path, _ = _written(tmp_path, 25, sensor="mpu6050", rate_hz=100)
    metadata, chunks = iter_recording_chunks(path, rows=10)
    chunks = list(chunks)
    assert metadata["sensor"] == "mpu6050"
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert [c.first_line for c in chunks] == [5, 15, 25]  # signature, 2 metadata, header


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 60), rows=st.integers(1, 70))
def test_chunked_iteration_equals_the_whole_read(tmp_path, n, rows):
    path, _ = _written(tmp_path, n)
    whole = read_recording(path)
    metadata, chunks = iter_recording_chunks(path, rows=rows)
    chunks = list(chunks)
    assert metadata == whole.metadata
    np.testing.assert_array_equal(np.concatenate([c.t_s for c in chunks]), whole.t_s)
    np.testing.assert_array_equal(np.concatenate([c.accel_g for c in chunks]), whole.accel_g)
    np.testing.assert_array_equal(np.concatenate([c.gyro_dps for c in chunks]), whole.gyro_dps)


def test_time_going_backwards_across_a_chunk_boundary_is_refused(tmp_path):
    rows = "".join(f"{t:.6f},{ROW}\n" for t in (0.0, 0.01, 0.02, 0.015, 0.03))
    path = _write(tmp_path, (META + HEADER + "\n" + rows).encode())
    metadata, chunks = iter_recording_chunks(path, rows=3)
    first = next(chunks)
    assert len(first) == 3
    with pytest.raises(InputFileError, match="backwards") as caught:
        next(chunks)
    assert caught.value.line == 7


def test_a_bad_head_is_refused_before_any_chunk(tmp_path):
    with pytest.raises(InputFileError, match="newer"):
        iter_recording_chunks(_write(tmp_path, GOOD.replace(b"recording: 1", b"recording: 3")))


# --------------------------------------------------------------------------- round trips


_finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def _recordings(draw):
    n = draw(st.integers(1, 40))
    t0_s = draw(st.one_of(st.just(0.0), st.floats(-1e3, 1e3, **_finite), st.floats(1.6e9, 1.8e9, **_finite)))
    steps_s = draw(st.lists(st.floats(1e-3, 5.0, **_finite), min_size=n - 1, max_size=n - 1))
    t_s = t0_s + np.concatenate(([0.0], np.cumsum(steps_s)))
    accel_g = np.array(draw(st.lists(st.floats(-16, 16, **_finite), min_size=3 * n, max_size=3 * n))).reshape(n, 3)
    gyro_dps = np.array(draw(st.lists(st.floats(-2000, 2000, **_finite), min_size=3 * n, max_size=3 * n))).reshape(n, 3)
    metadata = draw(st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\0"), max_size=20).map(str.strip),
        max_size=4,
    ))
    return t_s, accel_g, gyro_dps, metadata


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_recordings())
def test_what_is_written_reads_back_to_the_written_precision(tmp_path, data):
    t_s, accel_g, gyro_dps, metadata = data
    path = str(tmp_path / "round.csv")
    with RecordingWriter(path, metadata) as writer:
        writer.write(t_s, accel_g, gyro_dps)
    rec = read_recording(path)
    assert rec.metadata == {"backrep-recording": "1", **metadata}
    assert rec.samples == len(t_s)
    # six, five and four decimals: half a unit in the last place, plus float64 spacing at the value
    assert np.all(np.abs(rec.t_s - t_s) <= 0.5e-6 + 2 * np.spacing(np.abs(t_s)))
    assert np.all(np.abs(rec.accel_g - accel_g) <= 0.5e-5 + 1e-12)
    assert np.all(np.abs(rec.gyro_dps - gyro_dps) <= 0.5e-4 + 1e-9)
    assert np.all(np.diff(rec.t_s) > 0)


def test_write_recording_writes_a_recording_that_reads_back_the_same(tmp_path):
    path, arrays = _written(tmp_path, 30, sensor="sim")
    first = read_recording(path)
    copy = str(tmp_path / "copy.csv")
    write_recording(copy, first)
    second = read_recording(copy)
    assert second.metadata == first.metadata
    np.testing.assert_array_equal(second.t_s, first.t_s)
    np.testing.assert_array_equal(second.accel_g, first.accel_g)
    np.testing.assert_array_equal(second.gyro_dps, first.gyro_dps)
    assert Path(copy).read_text().startswith("# backrep-recording: 1\n# sensor: sim\nt_s,ax_g,")


# --------------------------------------------------------------------------- never any other exception


def _outcome(path: str) -> Recording | InputFileError:
    try:
        return read_recording(path)
    except InputFileError as error:
        return error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), prefix=st.sampled_from([b"", (META + HEADER + "\n").encode()]))
def test_random_bytes_are_a_recording_or_an_input_file_error(tmp_path, content, prefix):
    outcome = _outcome(_write(tmp_path, prefix + content))
    assert isinstance(outcome, (Recording, InputFileError))


_mutations = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 10_000), st.binary(min_size=1, max_size=3)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.sampled_from(
        [b",", b"\n", b";", b"\t", b"#", b"-", b".", b"e", b"nan", b"inf", b"\x00", b"\xff", b" ", b"\r", b"9"])),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 12)),
)


def _mutated(content: bytes, mutations) -> bytes:
    for kind, position, arg in mutations:
        position %= len(content) + 1
        if kind == "replace":
            content = content[:position] + arg + content[position + len(arg):]
        elif kind == "insert":
            content = content[:position] + arg + content[position:]
        else:
            content = content[:position] + content[position + arg:]
    return content


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(_mutations, min_size=1, max_size=4))
def test_a_mutated_file_is_refused_or_read_whole_never_half_read(tmp_path, mutations):
    content = _mutated(GOOD, mutations)
    outcome = _outcome(_write(tmp_path, content))
    assert isinstance(outcome, (Recording, InputFileError))
    if isinstance(outcome, Recording):
        # every non-blank line after the header is a sample: nothing was skipped
        lines = content.split(b"\n")
        header_index = next(i for i, line in enumerate(lines) if not line.startswith(b"#"))
        assert outcome.samples == sum(1 for line in lines[header_index + 1:] if line.strip())
        assert np.all(np.diff(outcome.t_s) > 0)
        assert np.isfinite(outcome.accel_g).all() and np.isfinite(outcome.gyro_dps).all()


# --------------------------------------------------------------------------- the writer


def test_the_writer_makes_each_second_of_samples_readable_before_close(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def counting_fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):  # the recording, not its directory
            synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(recording_module.os, "fsync", counting_fsync)
    path = str(tmp_path / "live.csv")
    t_s, accel_g, gyro_dps = _arrays(351)  # 3.5 s at 100 Hz
    writer = RecordingWriter(path, {"rate_hz": 100})
    for start in range(0, 351, 10):  # 0.1 s per write, as the sensor loop does
        end = min(start + 10, 351)
        writer.write(t_s[start:end], accel_g[start:end], gyro_dps[start:end])
        try:
            on_disk = read_recording(path)
        except InputFileError as error:
            assert "no samples" in error.reason  # the header only, less than a second in
            assert t_s[end - 1] - t_s[0] < 1.0
            continue
        # what is on disk is exactly what was written, and at most a second behind it
        np.testing.assert_allclose(on_disk.t_s, t_s[:on_disk.samples], rtol=0, atol=1e-9)
        assert t_s[end - 1] - on_disk.t_s[-1] < 1.0
        if end in (110, 210, 310):  # a second of sample time since the last sync
            assert on_disk.samples == end
    assert len(synced) == 3
    writer.close()
    writer.close()  # twice is fine
    assert read_recording(path).samples == 351
    assert len(synced) == 4


def test_the_writer_never_leaves_a_partial_row_in_the_file(tmp_path):
    path = str(tmp_path / "rows.csv")
    t_s, accel_g, gyro_dps = _arrays(500)
    writer = RecordingWriter(path, {}, sync_every_s=0.05)
    for i in range(0, 500, 7):
        writer.write(t_s[i:i + 7], accel_g[i:i + 7], gyro_dps[i:i + 7])
        assert Path(path).read_bytes().endswith(b"\n")
    writer.close()


@pytest.mark.parametrize("t_s, accel_g, why", [
    ([0.0, 0.01], [[0, 0, 1], [0, 0, np.nan]], "NaN"),
    ([0.0, 0.01], [[0, 0, 1], [0, np.inf, 1]], "NaN or infinity"),
    ([0.0, 0.0], [[0, 0, 1], [0, 0, 1]], "increase"),
    ([0.02, 0.01], [[0, 0, 1], [0, 0, 1]], "increase"),
    ([0.0, 0.0000004], [[0, 0, 1], [0, 0, 1]], "1 µs"),
    ([np.nan, 0.01], [[0, 0, 1], [0, 0, 1]], "t_s"),
])
def test_the_writer_refuses_what_the_reader_would_refuse(tmp_path, t_s, accel_g, why):
    with RecordingWriter(tmp_path / "w.csv", {}) as writer:
        with pytest.raises(ValueError, match=why):
            writer.write(np.array(t_s), np.array(accel_g, dtype=float), np.zeros((2, 3)))


def test_the_writer_refuses_time_that_does_not_follow_the_last_write(tmp_path):
    with RecordingWriter(tmp_path / "w.csv", {}) as writer:
        writer.write([1.0, 1.01], np.zeros((2, 3)), np.zeros((2, 3)))
        with pytest.raises(ValueError, match="increase"):
            writer.write([1.01, 1.02], np.zeros((2, 3)), np.zeros((2, 3)))
        writer.write([1.02], np.zeros((1, 3)), np.zeros((1, 3)))
    assert read_recording(tmp_path / "w.csv").t_s.tolist() == [1.0, 1.01, 1.02]


def test_the_writer_refuses_bad_shapes_metadata_and_writes_after_close(tmp_path):
    with pytest.raises(ValueError, match="metadata key"):
        RecordingWriter(tmp_path / "a.csv", {"rate hz": 100})
    with pytest.raises(ValueError, match="one line"):
        RecordingWriter(tmp_path / "b.csv", {"note": "two\nlines"})
    writer = RecordingWriter(tmp_path / "c.csv", {})
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        writer.write([0.0, 0.01], np.zeros((2, 2)), np.zeros((2, 3)))
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write([0.0], np.zeros((1, 3)), np.zeros((1, 3)))


# --------------------------------------------------------------------------- labels


LABELS = {"exercise": "knee_to_chest", "reps": 2, "holds_s": [20.1, 19.4],
          "rep_spans": [[14.2, 40.8], [45.0, 70.5]], "hold_spans": [[17.9, 38.0], [48.0, 67.4]],
          "side": "right", "source": "simulated", "seed": 7}


def test_labels_are_read_from_the_json_beside_the_recording(tmp_path):
    csv_path = _write(tmp_path, GOOD, "k2c-01.csv")
    (tmp_path / "k2c-01.json").write_text(json.dumps(LABELS))
    labels = read_labels(csv_path)
    assert labels == Labels(exercise="knee_to_chest", reps=2, holds_s=(20.1, 19.4),
                            rep_spans=((14.2, 40.8), (45.0, 70.5)), hold_spans=((17.9, 38.0), (48.0, 67.4)),
                            side="right", source="simulated", extra={"seed": 7})


def test_only_exercise_and_reps_are_required_and_no_sidecar_is_none(tmp_path):
    csv_path = _write(tmp_path, GOOD, "h.csv")
    assert read_labels(csv_path) is None
    (tmp_path / "h.json").write_text('{"exercise": "heel_slide", "reps": 10}')
    labels = read_labels(csv_path)
    assert (labels.exercise, labels.reps, labels.holds_s, labels.side, labels.extra) == ("heel_slide", 10, (), None, {})


@pytest.mark.parametrize("text, line, reason", [
    ('{"exercise": "heel_slide",\n "reps": 10,,}', 2, "not valid JSON"),
    ("[1, 2]", None, "JSON object"),
    ('{"reps": 3}', None, "'exercise'"),
    ('{"exercise": "heel_slide", "reps": "five"}', None, "'reps'"),
    ('{"exercise": "heel_slide", "reps": true}', None, "'reps'"),
    ('{"exercise": "heel_slide", "reps": 2, "holds_s": [1, "x"]}', None, "'holds_s'"),
    ('{"exercise": "heel_slide", "reps": 2, "rep_spans": [[3, 1]]}', None, "'rep_spans'"),
    ('{"exercise": "heel_slide", "reps": 2, "hold_spans": [[1]]}', None, "'hold_spans'"),
    ('{"exercise": "heel_slide", "reps": 2, "side": "up"}', None, "'side'"),
    ("[" * 100_000 + "]" * 100_000, None, "nested too deeply"),
])
def test_a_malformed_sidecar_is_refused_naming_it(tmp_path, text, line, reason):
    csv_path = _write(tmp_path, GOOD, "bad.csv")
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(InputFileError) as caught:
        read_labels(csv_path)
    assert caught.value.path == str(tmp_path / "bad.json")
    assert caught.value.line == line
    assert reason in caught.value.reason


def test_recording_refuses_mismatched_arrays():
    with pytest.raises(ValueError, match="accel_g"):
        Recording("x.csv", {}, np.zeros(3), np.zeros((2, 3)), np.zeros((3, 3)))
    assert not math.isnan(Recording("x.csv", {}, np.zeros(1), np.zeros((1, 3)), np.zeros((1, 3))).duration_s)
