"""The session history: SQLite in the data directory, written as things happen.

Durability is the point. WAL mode lets the dashboard read while the sensor loop writes, and
``synchronous=FULL`` makes every commit reach the card before it returns: in WAL mode the
cheaper ``NORMAL`` survives a crashed process but can lose the last commits to a pulled plug,
and a lost rep is what this store exists to prevent. Each counted rep and each finished hold is
its own transaction. A set is ``open`` until it is stopped (``closed``); a set still open when
the service starts was cut short by a crash or power loss and becomes ``interrupted``.

Times: wall-clock instants are Unix seconds (``*_unix_s``) supplied by the caller's clock; rep
and hold times are in the samples' own clock (``t_s``), as the engine reports them.
"""
from __future__ import annotations

import csv
import io
import sqlite3
import threading
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from signal_processing import Hold

SCHEMA = """
CREATE TABLE IF NOT EXISTS sets (
    id INTEGER PRIMARY KEY,
    exercise TEXT NOT NULL,
    leg TEXT NOT NULL,
    target_reps INTEGER NOT NULL,
    hold_target_s REAL NOT NULL,
    source TEXT NOT NULL,
    started_unix_s REAL NOT NULL,
    ended_unix_s REAL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'interrupted'))
);
CREATE INDEX IF NOT EXISTS sets_started ON sets (started_unix_s);
CREATE TABLE IF NOT EXISTS reps (
    set_id INTEGER NOT NULL REFERENCES sets (id),
    n INTEGER NOT NULL,
    t_s REAL NOT NULL,
    at_unix_s REAL NOT NULL,
    PRIMARY KEY (set_id, n)
);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES sets (id),
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    at_unix_s REAL NOT NULL
);
"""


#: A stored hold is the engine's hold: the same span, the same JSON.
HoldRecord = Hold


@dataclass(frozen=True)
class SetRecord:
    id: int
    exercise: str
    leg: str
    target_reps: int
    hold_target_s: float
    source: str
    started_unix_s: float
    ended_unix_s: float | None
    status: str
    rep_times_s: tuple[float, ...] = ()
    holds: tuple[HoldRecord, ...] = field(default=())

    @property
    def reps(self) -> int:
        return len(self.rep_times_s)

    @property
    def local_date(self) -> str:
        return datetime.fromtimestamp(self.started_unix_s).astimezone().date().isoformat()

    def as_dict(self) -> dict:
        out = asdict(self)
        out["rep_times_s"] = [round(t, 3) for t in self.rep_times_s]
        out["holds"] = [hold.as_dict() for hold in self.holds]
        out["reps"] = self.reps
        out["date"] = self.local_date
        out["started_at"] = _iso(self.started_unix_s)
        out["ended_at"] = None if self.ended_unix_s is None else _iso(self.ended_unix_s)
        return out


@dataclass(frozen=True)
class DayRecord:
    """One local calendar day of exercise, for the history chart."""

    date: str
    sets: int
    reps: int
    holds: int
    hold_s: float

    def as_dict(self) -> dict:
        out = asdict(self)
        out["hold_s"] = round(self.hold_s, 1)
        return out


def _iso(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s).astimezone().isoformat(timespec="seconds")


class Store:
    """One SQLite file. Writes go through one connection under a lock; each read opens its own.

    Reads never wait for the writer (WAL), so a history page cannot hold up a rep being saved.
    """

    FILENAME = "backrep.sqlite3"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    @classmethod
    def in_dir(cls, data_dir: str | Path) -> "Store":
        return cls(Path(data_dir) / cls.FILENAME)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def pragma(self, name: str):
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    # -- writes: one transaction each, durable when they return ------------------------------
    def _write(self, sql: str, params: tuple) -> int:
        with self._lock:
            cursor = self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return cursor.lastrowid

    def recover_interrupted(self, at_unix_s: float) -> list[int]:
        """Mark every set still open as interrupted; call once at start-up, before a new set."""
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT id FROM sets WHERE status = 'open'")]
            if ids:
                self._db.execute("BEGIN IMMEDIATE")
                # The set ended, at the latest, when its last rep or hold was saved.
                self._db.execute(
                    """UPDATE sets SET status = 'interrupted', ended_unix_s = COALESCE(
                           (SELECT MAX(at) FROM (SELECT MAX(at_unix_s) AS at FROM reps WHERE set_id = sets.id
                                                 UNION ALL SELECT MAX(at_unix_s) FROM holds WHERE set_id = sets.id)),
                           started_unix_s)
                       WHERE status = 'open'""")
                self._db.execute("COMMIT")
        return ids

    def start_set(self, *, exercise: str, leg: str, target_reps: int, hold_target_s: float,
                  source: str, at_unix_s: float) -> int:
        return self._write(
            "INSERT INTO sets (exercise, leg, target_reps, hold_target_s, source, started_unix_s, status)"
            " VALUES (?, ?, ?, ?, ?, ?, 'open')",
            (exercise, leg, int(target_reps), float(hold_target_s), source, float(at_unix_s)))

    def add_rep(self, set_id: int, n: int, t_s: float, at_unix_s: float) -> None:
        self._write("INSERT OR REPLACE INTO reps (set_id, n, t_s, at_unix_s) VALUES (?, ?, ?, ?)",
                    (set_id, int(n), float(t_s), float(at_unix_s)))

    def retract_rep(self, set_id: int, n: int) -> None:
        """The engine took back the set's rep ``n`` (an abandoned movement, as the person's
        usual range later showed): drop it and any hold it had (one that ended before it was
        counted and not before the rep before it was), and move the later reps down one."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT t_s FROM reps WHERE set_id = ? AND n = ?", (set_id, n)).fetchone()
                if row is not None:
                    before = self._db.execute("SELECT t_s FROM reps WHERE set_id = ? AND n = ?",
                                              (set_id, n - 1)).fetchone()
                    self._db.execute("DELETE FROM holds WHERE set_id = ? AND end_s < ? AND end_s >= ?",
                                     (set_id, row[0], before[0] if before else float("-inf")))
                    self._db.execute("DELETE FROM reps WHERE set_id = ? AND n = ?", (set_id, n))
                    # Renumber in two steps so the primary key never collides.
                    self._db.execute("UPDATE reps SET n = -(n - 1) WHERE set_id = ? AND n > ?", (set_id, n))
                    self._db.execute("UPDATE reps SET n = -n WHERE set_id = ? AND n < 0", (set_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add_hold(self, set_id: int, start_s: float, end_s: float, at_unix_s: float) -> None:
        self._write("INSERT INTO holds (set_id, start_s, end_s, at_unix_s) VALUES (?, ?, ?, ?)",
                    (set_id, float(start_s), float(end_s), float(at_unix_s)))

    def close_set(self, set_id: int, at_unix_s: float, status: str = "closed") -> None:
        """End an open set: ``closed`` when stopped, ``interrupted`` when cut short."""
        if status not in ("closed", "interrupted"):
            raise ValueError(f"a set ends closed or interrupted, not {status!r}")
        self._write("UPDATE sets SET status = ?, ended_unix_s = ? WHERE id = ? AND status = 'open'",
                    (status, float(at_unix_s), set_id))

    # -- reads --------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)

    def sets(self, from_unix_s: float | None = None, to_unix_s: float | None = None,
             limit: int | None = None, set_id: int | None = None) -> list[SetRecord]:
        """Sets started in [from, to), newest first, with their reps and holds."""
        where, params = [], []
        if set_id is not None:
            where.append("id = ?")
            params.append(set_id)
        if from_unix_s is not None:
            where.append("started_unix_s >= ?")
            params.append(from_unix_s)
        if to_unix_s is not None:
            where.append("started_unix_s < ?")
            params.append(to_unix_s)
        sql = ("SELECT id, exercise, leg, target_reps, hold_target_s, source, started_unix_s, ended_unix_s,"
               " status FROM sets" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY started_unix_s DESC, id DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with closing(self._reader()) as db:
            rows = db.execute(sql, params).fetchall()
            if not rows:
                return []
            ids = [row[0] for row in rows]
            marks = ",".join("?" * len(ids))
            reps: dict[int, list[float]] = {i: [] for i in ids}
            for set_id, t_s in db.execute(f"SELECT set_id, t_s FROM reps WHERE set_id IN ({marks}) ORDER BY set_id, n", ids):
                reps[set_id].append(t_s)
            holds: dict[int, list[HoldRecord]] = {i: [] for i in ids}
            for set_id, start_s, end_s in db.execute(
                    f"SELECT set_id, start_s, end_s FROM holds WHERE set_id IN ({marks}) ORDER BY set_id, id", ids):
                holds[set_id].append(HoldRecord(start_s, end_s))
        return [SetRecord(*row, rep_times_s=tuple(reps[row[0]]), holds=tuple(holds[row[0]])) for row in rows]

    def get_set(self, set_id: int) -> SetRecord | None:
        found = self.sets(set_id=set_id)
        return found[0] if found else None

    def days(self, from_unix_s: float | None = None, to_unix_s: float | None = None) -> list[DayRecord]:
        """Per local day: sets, reps, holds and total hold time, oldest first."""
        by_day: dict[str, list[int | float]] = {}
        for record in self.sets(from_unix_s, to_unix_s):
            day = by_day.setdefault(record.local_date, [0, 0, 0, 0.0])
            day[0] += 1
            day[1] += record.reps
            day[2] += len(record.holds)
            day[3] += sum(h.duration_s for h in record.holds)
        return [DayRecord(date, *values) for date, values in sorted(by_day.items())]

    def export_csv(self, from_unix_s: float | None = None, to_unix_s: float | None = None) -> str:
        """One row per set, oldest first, for a spreadsheet or a physiotherapist."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["date", "started_at", "ended_at", "exercise", "leg", "status", "reps",
                         "target_reps", "holds", "hold_durations_s", "hold_target_s", "source"])
        for record in reversed(self.sets(from_unix_s, to_unix_s)):
            row = record.as_dict()
            writer.writerow([row["date"], row["started_at"], row["ended_at"] or "", record.exercise, record.leg,
                             record.status, record.reps, record.target_reps, len(record.holds),
                             ";".join(f"{h.duration_s:.1f}" for h in record.holds),
                             f"{record.hold_target_s:g}", record.source])
        return out.getvalue()
