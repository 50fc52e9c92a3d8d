"""Roles of BI, the loader and the reviewer logins, kept in step by the pipeline (idempotent).

Run after every marts build (the marts DAG's roles/grants step) and by ``supervision roles``.
"""
from __future__ import annotations

import logging

from supervision.access.ddl import ensure_role, ident, keep_only_memberships, login_role, schemas
from supervision.access.names import BI_ROLE, LOADER_ROLE, login_roles, reviewer_roles
from supervision.access.rls import install_security
from supervision.warehouse import one_row

log = logging.getLogger(__name__)

# What BI may read, and what the loader writes.
BI_SCHEMA = "marts"
LOADER_SCHEMAS = ("raw_training", "raw_video", "raw_assessment", "ops", "pii")
# Databases of the platform that may share the warehouse's server: nobody but their owner connects.
PLATFORM_DATABASES = ("airflow", "training_platform")

BI_STATEMENT_TIMEOUT = "120s"
REVIEWER_STATEMENT_TIMEOUT = "60s"

# Filters BI tools use on the marts (district, month, rule, status), as index column lists; an index is
# made on a marts table when it has all the columns and no index already starts with them.
BI_INDEXES: tuple[tuple[str, ...], ...] = (
    ("district_code", "month"),
    ("month",),
    ("rule_code",),
    ("status",),
    ("district_code", "status"),
    ("occurred_on",),
)


# --- the roles -----------------------------------------------------------------------------------

def _bi_role(conn) -> None:
    login_role(conn, BI_ROLE, connection_limit=50, settings={
        "default_transaction_read_only": "on",
        "statement_timeout": BI_STATEMENT_TIMEOUT,
        "idle_in_transaction_session_timeout": "10min",
        "search_path": BI_SCHEMA,
    })
    keep_only_memberships(conn, BI_ROLE, set())  # no inherited privileges of any kind


def _sync_bi(conn, db: str, owner: str) -> None:
    conn.execute(f"grant connect on database {ident(db)} to {BI_ROLE}")
    # Nothing outside marts: revoke whatever BI (or PUBLIC, which BI is part of) was given elsewhere.
    for schema in schemas(conn):
        if schema == BI_SCHEMA:
            continue
        s = ident(schema)
        for kind in ("tables", "sequences", "functions"):
            conn.execute(f"revoke all on all {kind} in schema {s} from {BI_ROLE}")
            conn.execute(f"alter default privileges for role {ident(owner)} in schema {s} "
                         f"revoke all on {kind} from {BI_ROLE}")
        conn.execute(f"revoke all on all tables in schema {s} from public")
        conn.execute(f"revoke all on all sequences in schema {s} from public")
        conn.execute(f"revoke all on schema {s} from {BI_ROLE}")
        # PostgreSQL < 15 granted CREATE on public to PUBLIC, and USAGE still is: nobody but the owner and
        # the roles granted by name use any schema of the warehouse but marts.
        conn.execute(f"revoke all on schema {s} from public")
    m = ident(BI_SCHEMA)
    conn.execute(f"grant usage on schema {m} to {BI_ROLE}")
    conn.execute(f"revoke create on schema {m} from {BI_ROLE}")
    conn.execute(f"revoke all on all tables in schema {m} from {BI_ROLE}")
    conn.execute(f"grant select on all tables in schema {m} to {BI_ROLE}")  # views and matviews too
    conn.execute(f"alter default privileges for role {ident(owner)} in schema {m} "
                 f"grant select on tables to {BI_ROLE}")


def _sync_loader(conn, db: str, owner: str) -> None:
    login_role(conn, LOADER_ROLE, connection_limit=40, settings={})
    keep_only_memberships(conn, LOADER_ROLE, set())
    conn.execute(f"grant connect, temporary on database {ident(db)} to {LOADER_ROLE}")
    present = set(schemas(conn))
    for schema in LOADER_SCHEMAS:
        if schema not in present:
            continue
        s = ident(schema)
        conn.execute(f"grant usage on schema {s} to {LOADER_ROLE}")
        conn.execute(f"grant select, insert, update, delete, truncate on all tables in schema {s} to {LOADER_ROLE}")
        conn.execute(f"grant usage, select, update on all sequences in schema {s} to {LOADER_ROLE}")
        conn.execute(f"alter default privileges for role {ident(owner)} in schema {s} "
                     f"grant select, insert, update, delete, truncate on tables to {LOADER_ROLE}")
        conn.execute(f"alter default privileges for role {ident(owner)} in schema {s} "
                     f"grant usage, select, update on sequences to {LOADER_ROLE}")


def _sync_reviewers(conn, db: str) -> None:
    for login, group in reviewer_roles().items():
        ensure_role(conn, group, "nologin")  # normally made by install_security, with its grants
        login_role(conn, login, connection_limit=10, settings={
            "default_transaction_read_only": "on",
            "statement_timeout": REVIEWER_STATEMENT_TIMEOUT,
        })
        keep_only_memberships(conn, login, {group})
        conn.execute(f"grant connect on database {ident(db)} to {ident(login)}")


def _bi_alert_policy(conn) -> None:
    """BI is a city-level reader of alerts: its own SELECT-only policy, not membership of supervision_city
    (which carries the review application's rights)."""
    exists = conn.execute("select to_regclass('marts.supervision_alerts') is not null").fetchone()[0]
    if not exists:
        return
    conn.execute("drop policy if exists supervision_bi_read_all on marts.supervision_alerts")
    conn.execute(f"create policy supervision_bi_read_all on marts.supervision_alerts "
                 f"as permissive for select to {BI_ROLE} using (true)")


def _lock_platform_databases(conn, db: str) -> None:
    """The Airflow metadata and demo source databases, where they share the server: no PUBLIC connect."""
    rows = conn.execute(
        "select datname from pg_database where datname = any(%s) and datname <> %s "
        "and (pg_has_role(current_user, datdba, 'MEMBER') or "
        "     (select rolsuper from pg_roles where rolname = current_user))",
        (list(PLATFORM_DATABASES), db)).fetchall()
    for (name,) in rows:
        conn.execute(f"revoke connect, temporary on database {ident(name)} from public")
        for role in login_roles():
            conn.execute(f"revoke all on database {ident(name)} from {ident(role)}")


def ensure_bi_indexes(conn) -> list[str]:
    """Indexes serving BI's common filters on the marts tables that exist (views are skipped).

    Returns the names of the indexes made. dbt rebuilds table models, dropping their indexes: this runs
    after every marts build."""
    made: list[str] = []
    tables = conn.execute("""
        select c.relname, array_agg(a.attname::text order by a.attnum)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = %s and c.relkind in ('r', 'm', 'p')
          and (pg_has_role(current_user, c.relowner, 'USAGE')
               or (select rolsuper from pg_roles where rolname = current_user))
        group by c.relname order by c.relname""", (BI_SCHEMA,)).fetchall()
    for table, columns in tables:
        leading = [tuple(r[0]) for r in conn.execute("""
            select array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
                         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                         order by k.ord)
            from pg_index i where i.indrelid = %s::regclass""", (f'{BI_SCHEMA}."{table}"',))]
        for cols in BI_INDEXES:
            if not set(cols) <= set(columns):
                continue
            if any(idx[: len(cols)] == cols for idx in leading):
                continue
            name = f"{table}__bi_{'_'.join(cols)}"[:63]
            col_list = ", ".join(f'"{c}"' for c in cols)
            conn.execute(f'create index if not exists "{name}" on {BI_SCHEMA}."{table}" ({col_list})')
            leading.append(cols)
            made.append(name)
    return made


def sync_roles(warehouse_url: str | None = None) -> None:
    """Create or update every role, grant, policy and BI index. Idempotent; run as the warehouse owner."""
    from supervision.config import settings
    from supervision.warehouse import bootstrap, connect

    url = warehouse_url or settings().warehouse_url()
    bootstrap(url)  # the schemas the grants name
    install_security(url)  # the review application's groups, its login and the RLS policies
    with connect(url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(7400002)")
        db, owner = one_row(conn.execute("select current_database(), current_user"))
        _bi_role(conn)
        # The statements that lock a table come before any grant on it (docs/decisions/0062): a VACUUM
        # (autovacuum, after dbt rebuilt the marts) holds its table and, at its end, updates the
        # table's catalog row in place, which waits for a transaction that granted on the table.
        # Granting first and then waiting for the table's lock (a policy, an index) is a deadlock;
        # waiting first holds nothing the VACUUM waits for, and PostgreSQL cancels an autovacuum
        # that blocks a lock for deadlock_timeout.
        _bi_alert_policy(conn)
        made = ensure_bi_indexes(conn)
        _sync_bi(conn, db, owner)
        _sync_loader(conn, db, owner)
        _sync_reviewers(conn, db)
        _lock_platform_databases(conn, db)
    if made:
        log.info("BI indexes made: %s", ", ".join(made))

