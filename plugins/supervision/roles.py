"""Database roles of the warehouse, created and kept in step by the pipeline (idempotent).

Run after every marts build (the marts DAG's roles/grants step) and by ``supervision roles``.

| role | login | can |
|---|---|---|
| ``supervision_bi`` | yes | read schema ``marts`` and nothing else (read-only default transactions, a statement timeout); every alert, through its own SELECT policy on ``marts.supervision_alerts`` |
| ``supervision_loader`` | yes | read and write the tables of ``raw_training``, ``raw_video``, ``raw_assessment``, ``ops`` and ``pii`` (no DDL) |
| ``reviewer_<district>`` (16) | yes | member of ``supervision_read_district_<district>``: SELECT on the alert table, its district's rows only (row-level security) |
| ``reviewer_city`` | yes | member of ``supervision_read_city``: SELECT on every alert |
| ``supervision_city``, ``supervision_district_<code>``, ``supervision_read_*``, ``supervision_app`` | groups / the review app | made by ``supervision.review.security.install_security`` with the RLS policies |

Reviewer logins inherit the *read* roles, not the review groups ``supervision_city`` /
``supervision_district_<code>``: those may also UPDATE an alert's status and write review tables, which
must go through the review application (its audit trail). BI is not a member of
``supervision_read_city`` either (that role has USAGE on schema ``review``): it has a policy of its own.

Passwords come from ``settings().secret("<role>_password", "SUPERVISION_<NAME>_PASSWORD")`` (the env
variable wins; else ``$SUPERVISION_VAR_DIR/secrets.json``, made on first use): ``SUPERVISION_BI_PASSWORD``,
``SUPERVISION_LOADER_PASSWORD``, ``SUPERVISION_REVIEWER_CITY_PASSWORD``,
``SUPERVISION_REVIEWER_310101_PASSWORD`` … They are sent to the server as SCRAM verifiers, never in
plain text. Roles are cluster-wide; grants, policies and indexes are made in the warehouse database.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import quote, urlsplit, urlunsplit

from supervision.config import DISTRICTS

log = logging.getLogger(__name__)

BI_ROLE = "supervision_bi"
LOADER_ROLE = "supervision_loader"
REVIEWER_CITY = "reviewer_city"
# Read-only group roles of supervision.review.security (SELECT on the alert table under RLS).
READ_CITY = "supervision_read_city"

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

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def district_read_role(code: str) -> str:
    return f"supervision_read_district_{code}"


def district_reviewer(code: str) -> str:
    return f"reviewer_{code}"


def reviewer_roles() -> dict[str, str]:
    """Every reviewer login role and the read-only group role it inherits."""
    roles = {district_reviewer(code): district_read_role(code) for code in DISTRICTS}
    roles[REVIEWER_CITY] = READ_CITY
    return roles


def login_roles() -> tuple[str, ...]:
    return (BI_ROLE, LOADER_ROLE, *reviewer_roles())


def password_env(role: str) -> str:
    """The environment variable holding a role's password: ``supervision_bi`` -> ``SUPERVISION_BI_PASSWORD``."""
    name = role.removeprefix("supervision_")
    return f"SUPERVISION_{name.upper()}_PASSWORD"


def role_password(role: str) -> str:
    from supervision.config import settings

    return settings().secret(f"{role}_password", password_env(role))


def role_url(role: str, warehouse_url: str | None = None) -> str:
    """The warehouse URL with ``role`` and its password as the user (host, port, database, query kept)."""
    if warehouse_url is None:
        from supervision.config import settings

        warehouse_url = settings().warehouse_url()
    parts = urlsplit(warehouse_url)
    hostport = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(role, safe='')}:{quote(role_password(role), safe='')}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- SQL helpers ---------------------------------------------------------------------------------

def _ident(name: str) -> str:
    """A role or schema name we made ourselves, quoted; anything else is refused."""
    if not _ROLE_NAME.match(name):
        raise ValueError(f"unexpected name {name!r}")
    return f'"{name}"'


def _ensure_role(conn, role: str, login: bool) -> None:
    """Create the role if missing (race-safe), in a DO block checking pg_roles."""
    kind = "login" if login else "nologin"
    conn.execute(f"""
        do $$ begin
          if not exists (select 1 from pg_roles where rolname = '{role}') then
            begin
              create role {_ident(role)} {kind};
            exception when duplicate_object or unique_violation then null;
            end;
          end if;
        end $$""")


def _set_password(conn, role: str, password: str) -> None:
    """ALTER ROLE ... PASSWORD with a SCRAM verifier made client-side (no plain text in server logs)."""
    from psycopg import sql

    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(verifier)))


def _keep_only_memberships(conn, member: str, wanted: set[str]) -> None:
    """Grant ``member`` the groups in ``wanted`` and revoke any other membership it has."""
    have = {r[0] for r in conn.execute(
        "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
        "join pg_roles u on u.oid = m.member where u.rolname = %s", (member,))}
    for group in sorted(have - wanted):
        conn.execute(f"revoke {_ident(group)} from {_ident(member)}")
    for group in sorted(wanted - have):
        conn.execute(f"grant {_ident(group)} to {_ident(member)}")


def _schemas(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema') "
        "and nspname not like 'pg\\_%' order by 1")]


def _login_role(conn, role: str, *, connection_limit: int, settings: dict[str, str]) -> None:
    _ensure_role(conn, role, login=True)
    conn.execute(f"alter role {_ident(role)} with login nosuperuser nocreatedb nocreaterole noreplication "
                 f"nobypassrls inherit connection limit {int(connection_limit)}")
    _set_password(conn, role, role_password(role))
    for name, value in settings.items():
        conn.execute(f"alter role {_ident(role)} set {name} = '{value}'")


# --- the roles -----------------------------------------------------------------------------------

def _sync_bi(conn, db: str, owner: str) -> None:
    _login_role(conn, BI_ROLE, connection_limit=50, settings={
        "default_transaction_read_only": "on",
        "statement_timeout": BI_STATEMENT_TIMEOUT,
        "idle_in_transaction_session_timeout": "10min",
        "search_path": BI_SCHEMA,
    })
    _keep_only_memberships(conn, BI_ROLE, set())  # no inherited privileges of any kind
    conn.execute(f"grant connect on database {_ident(db)} to {BI_ROLE}")
    # Nothing outside marts: revoke whatever BI (or PUBLIC, which BI is part of) was given elsewhere.
    for schema in _schemas(conn):
        if schema == BI_SCHEMA:
            continue
        s = _ident(schema)
        for kind in ("tables", "sequences", "functions"):
            conn.execute(f"revoke all on all {kind} in schema {s} from {BI_ROLE}")
            conn.execute(f"alter default privileges for role {_ident(owner)} in schema {s} "
                         f"revoke all on {kind} from {BI_ROLE}")
        conn.execute(f"revoke all on all tables in schema {s} from public")
        conn.execute(f"revoke all on all sequences in schema {s} from public")
        conn.execute(f"revoke all on schema {s} from {BI_ROLE}")
        # PostgreSQL < 15 granted CREATE on public to PUBLIC, and USAGE still is: nobody but the owner and
        # the roles granted by name use any schema of the warehouse but marts.
        conn.execute(f"revoke all on schema {s} from public")
    m = _ident(BI_SCHEMA)
    conn.execute(f"grant usage on schema {m} to {BI_ROLE}")
    conn.execute(f"revoke create on schema {m} from {BI_ROLE}")
    conn.execute(f"revoke all on all tables in schema {m} from {BI_ROLE}")
    conn.execute(f"grant select on all tables in schema {m} to {BI_ROLE}")  # views and matviews too
    conn.execute(f"alter default privileges for role {_ident(owner)} in schema {m} "
                 f"grant select on tables to {BI_ROLE}")


def _sync_loader(conn, db: str, owner: str) -> None:
    _login_role(conn, LOADER_ROLE, connection_limit=40, settings={})
    _keep_only_memberships(conn, LOADER_ROLE, set())
    conn.execute(f"grant connect, temporary on database {_ident(db)} to {LOADER_ROLE}")
    present = set(_schemas(conn))
    for schema in LOADER_SCHEMAS:
        if schema not in present:
            continue
        s = _ident(schema)
        conn.execute(f"grant usage on schema {s} to {LOADER_ROLE}")
        conn.execute(f"grant select, insert, update, delete, truncate on all tables in schema {s} to {LOADER_ROLE}")
        conn.execute(f"grant usage, select, update on all sequences in schema {s} to {LOADER_ROLE}")
        conn.execute(f"alter default privileges for role {_ident(owner)} in schema {s} "
                     f"grant select, insert, update, delete, truncate on tables to {LOADER_ROLE}")
        conn.execute(f"alter default privileges for role {_ident(owner)} in schema {s} "
                     f"grant usage, select, update on sequences to {LOADER_ROLE}")


def _sync_reviewers(conn, db: str) -> None:
    for login, group in reviewer_roles().items():
        _ensure_role(conn, group, login=False)  # normally made by install_security, with its grants
        _login_role(conn, login, connection_limit=10, settings={
            "default_transaction_read_only": "on",
            "statement_timeout": REVIEWER_STATEMENT_TIMEOUT,
        })
        _keep_only_memberships(conn, login, {group})
        conn.execute(f"grant connect on database {_ident(db)} to {_ident(login)}")


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
        conn.execute(f"revoke connect, temporary on database {_ident(name)} from public")
        for role in login_roles():
            conn.execute(f"revoke all on database {_ident(name)} from {_ident(role)}")


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


def _install_review_security(url: str) -> bool:
    """The review application's groups, app role and RLS policies, when that module is there."""
    try:
        from supervision.review.security import install_security
    except ImportError as err:
        log.warning("supervision.review.security is not importable (%s): district row-level security "
                    "is NOT installed; reviewer logins get no rights until it is", err)
        return False
    install_security(url)
    return True


def sync_roles(warehouse_url: str | None = None) -> None:
    """Create or update every role, grant, policy and BI index. Idempotent; run as the warehouse owner."""
    from supervision.config import settings
    from supervision.warehouse import bootstrap, connect

    url = warehouse_url or settings().warehouse_url()
    bootstrap(url)  # the schemas the grants name
    _install_review_security(url)
    with connect(url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(7400002)")
        db, owner = conn.execute("select current_database(), current_user").fetchone()
        _sync_bi(conn, db, owner)
        _sync_loader(conn, db, owner)
        _sync_reviewers(conn, db)
        _bi_alert_policy(conn)
        _lock_platform_databases(conn, db)
        made = ensure_bi_indexes(conn)
    if made:
        log.info("BI indexes made: %s", ", ".join(made))

