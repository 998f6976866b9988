"""The history store: WAL, full sync, each rep and hold committed alone, crashes leave 'interrupted'."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from backrep.store import Store


def test_wal_and_full_sync(tmp_path):
    store = Store.in_dir(tmp_path)
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL: a commit is on the card before it returns
    store.close()


def test_every_rep_and_hold_is_visible_to_another_connection_at_once(tmp_path):
    store = Store.in_dir(tmp_path)
    set_id = store.start_set(exercise="knee_to_chest", leg="left", target_reps=5, hold_target_s=20, source="sensor",
                             at_unix_s=1000.0)
    other = sqlite3.connect(tmp_path / Store.FILENAME)
    for n in range(1, 4):
        store.add_hold(set_id, 10.0 * n, 10.0 * n + 5, 1000.0 + n)
        store.add_rep(set_id, n, 10.0 * n + 6, 1000.0 + n)
        assert other.execute("SELECT COUNT(*) FROM reps WHERE set_id = ?", (set_id,)).fetchone()[0] == n
        assert other.execute("SELECT COUNT(*) FROM holds WHERE set_id = ?", (set_id,)).fetchone()[0] == n
    assert other.execute("SELECT status FROM sets").fetchone()[0] == "open"
    other.close()
    store.close()


def test_a_crash_mid_set_keeps_every_rep_and_the_set_becomes_interrupted(tmp_path):
    # A child process counts three reps and dies without closing anything.
    script = textwrap.dedent(f"""
        import os
        from backrep.store import Store
        store = Store.in_dir({str(tmp_path)!r})
        set_id = store.start_set(exercise="heel_slide", leg="right", target_reps=10, hold_target_s=0,
                                 source="sensor", at_unix_s=5000.0)
        for n in (1, 2, 3):
            store.add_rep(set_id, n, float(n), 5000.0 + 10 * n)
        os._exit(9)
    """)
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    store = Store.in_dir(tmp_path)
    (before,) = store.sets()
    assert before.status == "open" and before.reps == 3
    assert store.recover_interrupted(at_unix_s=9999.0) == [before.id]
    (after,) = store.sets()
    assert after.status == "interrupted" and after.reps == 3
    assert after.ended_unix_s == 5030.0  # when its last rep was saved, not when we noticed
    assert store.recover_interrupted(at_unix_s=9999.0) == []
    store.close()


def test_closed_sets_are_left_alone_by_recovery(tmp_path):
    store = Store.in_dir(tmp_path)
    set_id = store.start_set(exercise="pelvic_tilt", leg="left", target_reps=10, hold_target_s=0, source="demo",
                             at_unix_s=100.0)
    store.close_set(set_id, 200.0)
    assert store.recover_interrupted(300.0) == []
    (record,) = store.sets()
    assert (record.status, record.ended_unix_s) == ("closed", 200.0)
    store.close()


def test_sets_filter_by_time_newest_first_and_days_aggregate(tmp_path):
    store = Store.in_dir(tmp_path)
    ids = []
    for i, t in enumerate((1_000_000.0, 1_000_100.0, 2_000_000.0)):
        set_id = store.start_set(exercise="knee_to_chest", leg="left", target_reps=5, hold_target_s=20,
                                 source="sensor", at_unix_s=t)
        store.add_rep(set_id, 1, 1.0, t)
        store.add_hold(set_id, 0.0, 20.0 + i, t)
        store.close_set(set_id, t + 50)
        ids.append(set_id)
    assert [s.id for s in store.sets()] == ids[::-1]
    assert [s.id for s in store.sets(1_000_050.0, 2_000_000.0)] == [ids[1]]
    days = store.days()
    assert sum(d.sets for d in days) == 3 and sum(d.reps for d in days) == 3
    assert sum(d.hold_s for d in days) == 63.0
    store.close()


def test_export_csv_one_row_per_set_oldest_first(tmp_path):
    store = Store.in_dir(tmp_path)
    for t in (2000.0, 1000.0):
        set_id = store.start_set(exercise="hip_flexor", leg="right", target_reps=5, hold_target_s=20,
                                 source="sensor", at_unix_s=t)
        store.add_hold(set_id, 1.0, 21.5, t)
        store.add_rep(set_id, 1, 22.0, t)
    lines = store.export_csv().splitlines()
    assert lines[0] == ("date,started_at,ended_at,exercise,leg,status,reps,target_reps,holds,hold_durations_s,"
                        "hold_target_s,source")
    assert len(lines) == 3 and all(",hip_flexor,right,open,1,5,1,20.5,20,sensor" in line for line in lines[1:])
    assert lines[1].split(",")[1] < lines[2].split(",")[1]
    store.close()


def test_a_set_can_end_interrupted_but_not_in_a_made_up_state(tmp_path):
    store = Store.in_dir(tmp_path / "dir with space #1")
    set_id = store.start_set(exercise="heel_slide", leg="left", target_reps=10, hold_target_s=0, source="sensor",
                             at_unix_s=1.0)
    with pytest.raises(ValueError):
        store.close_set(set_id, 2.0, status="finished")
    store.close_set(set_id, 2.0, status="interrupted")
    assert store.get_set(set_id).status == "interrupted"
    store.close()


@pytest.mark.parametrize("retracted, reps_left, holds_left", [
    (1, [(1, 12.0), (2, 20.0), (3, 28.0)], [7.0, 15.0, 23.0]),
    (3, [(1, 4.0), (2, 12.0), (3, 28.0)], [2.0, 7.0, 23.0]),
])
def test_a_retracted_rep_leaves_the_store_with_its_hold_and_the_later_reps_move_down(tmp_path, retracted,
                                                                                     reps_left, holds_left):
    store = Store.in_dir(tmp_path)
    set_id = store.start_set(exercise="generic", leg="left", target_reps=10, hold_target_s=0, source="replay",
                             at_unix_s=1000.0)
    store.add_hold(set_id, 2.0, 3.5, 1001.0)          # the first rep's pause
    store.add_rep(set_id, 1, 4.0, 1001.0)
    for n, t_s in ((2, 12.0), (3, 20.0), (4, 28.0)):
        store.add_hold(set_id, t_s - 5, t_s - 2, 1000.0 + t_s)
        store.add_rep(set_id, n, t_s, 1000.0 + t_s)
    store.retract_rep(set_id, retracted)
    other = sqlite3.connect(tmp_path / Store.FILENAME)
    assert other.execute("SELECT n, t_s FROM reps WHERE set_id = ? ORDER BY n", (set_id,)).fetchall() == reps_left
    assert [row[0] for row in other.execute("SELECT start_s FROM holds ORDER BY start_s")] == holds_left
    other.close()
    store.close()
