"""The review application's pool (psycopg_pool): SET LOCAL ROLE per transaction, a role set for the
session never reaches the next user (reset), a dead connection is replaced before it is lent (check)."""
from __future__ import annotations

import time

import psycopg
import pytest

from .seed import PUDONG


@pytest.fixture
def pool(review_db):
    from supervision.access import app_url
    from supervision.review.db import Pool

    p = Pool(app_url(review_db), size=1)   # one connection: every use below gets the same one back
    yield p
    p.close()


def _whoami(pool) -> tuple[str, int]:
    with pool.as_app() as conn:
        row = conn.execute("select current_user as role, pg_backend_pid() as pid").fetchone()
    return row["role"], row["pid"]


def test_user_role_is_local_to_the_transaction(pool):
    _, pid = _whoami(pool)
    with pool.as_user(PUDONG) as conn:
        assert conn.execute("select current_user as r").fetchone()["r"] == f"supervision_district_{PUDONG}"
        assert conn.execute("select pg_backend_pid() as p").fetchone()["p"] == pid
    assert _whoami(pool) == ("supervision_app", pid)
    with pytest.raises(ValueError, match="unknown district"), pool.as_user("999999"):
        pass


def test_a_session_role_is_reset_when_the_connection_comes_back(pool):
    _, pid = _whoami(pool)
    with pool.as_app() as conn:
        conn.execute("set role supervision_city")   # session-level, not LOCAL: outlives the transaction
    assert _whoami(pool) == ("supervision_app", pid)


def test_a_dead_connection_is_replaced_before_it_is_lent(pool, review_db):
    _, pid = _whoami(pool)
    with psycopg.connect(review_db, autocommit=True) as owner:
        assert owner.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        # pg_terminate_backend only signals: wait until the backend has ended (and told its client)
        for _ in range(200):
            if not owner.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
                break
            time.sleep(0.02)
    role, new_pid = _whoami(pool)   # no error: the check found it dead and the pool connected anew
    assert role == "supervision_app" and new_pid != pid
