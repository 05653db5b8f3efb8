"""What counts as a change to a shared matrix world (tests/worlds.py)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.worlds import WORLD_LIFETIME_SECONDS, _Kept, writes


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO goal (text) VALUES (?)",
        "  update goal SET text = ? WHERE id = ?",
        "DELETE FROM passkey WHERE id = %(id)s",
        "WITH moved AS (SELECT id FROM x) UPDATE bankmember SET balance = 1 RETURNING balance",
        "WITH gone AS (DELETE FROM post RETURNING id) SELECT count(*) FROM gone",
        "REPLACE INTO t VALUES (1)",
        "CREATE TABLE t (id int)",
        "TRUNCATE goal",
        "VACUUM",
        "SELECT id FROM goal WHERE id IN (SELECT id FROM goal); DELETE FROM goal",
        "SET search_path = other",
    ],
)
def test_statements_that_may_change_what_is_stored_count_as_writes(statement):
    assert writes(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT goal.id, goal.text FROM goal WHERE goal.patient_id = ?",
        "select updated_at, deleted_at, inserted_by FROM x",
        "SELECT * FROM exchange WHERE id = %(id)s FOR UPDATE",
        "SELECT * FROM exchange WHERE id = 1 FOR NO KEY UPDATE SKIP LOCKED",
        "BEGIN IMMEDIATE",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT sa_savepoint_1",
        "RELEASE SAVEPOINT sa_savepoint_1",
        "PRAGMA foreign_keys=ON",
        "SHOW server_version",
    ],
)
def test_reads_and_transaction_steps_do_not(statement):
    assert not writes(statement)


def test_a_world_is_built_again_on_a_new_day_or_when_old():
    today = dt.date(2026, 12, 2)
    kept = _Kept(rows=[], ctx={}, cookie=None, built_at=time.monotonic(), built_on=today)
    assert not kept.stale(today)
    assert kept.stale(today + dt.timedelta(days=1))
    kept.built_at -= WORLD_LIFETIME_SECONDS + 1
    assert kept.stale(today)
