"""The alert list as a service: filters parsed from the query string, keyset pages, counts, the export.

Every value that reaches SQL is either a whitelisted constant of this module (sort expressions, column
names) or a bound parameter; unknown filter values are dropped, never passed on.
"""
from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from supervision.review import catalogue as cat
from supervision.review.i18n import N_

PAGE_SIZES = (25, 50, 100, 200)
EXACT_COUNT_CAP = 2_000   # exact counts up to here; beyond, the planner's estimate (shown as ≈)

# --- sort whitelist: key -> (label, a message id; [(sql expression, python type)]); alert_id ends every sort
SEV_RANK = "(case a.severity when 'high' then 3 when 'medium' then 2 else 1 end)"
SORTS: dict[str, tuple[str, list[tuple[str, type]]]] = {
    "occurred": (N_("Occurred"), [("a.occurred_on", date)]),
    "first_detected": (N_("First detected"), [("a.first_detected_at", datetime)]),
    "last_detected": (N_("Last detected"), [("a.last_detected_at", datetime)]),
    "severity": (N_("Severity"), [(SEV_RANK, int), ("a.occurred_on", date)]),
    "rule": (N_("Rule"), [("a.rule_code", str), ("a.occurred_on", date)]),
    "district": (N_("District"), [("a.district_code", str), ("a.occurred_on", date)]),
    "status": (N_("Status"), [("a.status", str), ("a.occurred_on", date)]),
}

EXPORT_COLUMNS = ["alert_id", "rule_code", "severity", "entity_type", "entity_key", "district_code",
                  "occurred_on", "first_detected_at", "last_detected_at", "is_active", "status", "assignee",
                  "institution_id", "org_id", "exam_id", "evidence"]


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass
class Filters:
    rule: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    district: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    active: str = "yes"
    date_from: date | None = None
    date_to: date | None = None
    org: str = ""
    entity: str = ""
    person: str = ""
    exam: str = ""
    assignee: str = ""
    sort: str = "occurred"
    dir: str = "desc"
    per_page: int = 50

    @classmethod
    def parse(cls, q) -> Filters:
        """Only known values survive: everything else is dropped, never passed on."""
        f = cls()
        f.rule = [r for r in q.getlist("rule") if r in cat.RULES]
        f.severity = [s for s in q.getlist("severity") if s in cat.SEVERITIES]
        f.district = [d for d in q.getlist("district") if d in cat.ALL_DISTRICTS]
        f.status = [s for s in q.getlist("status") if s in cat.STATUSES]
        f.active = q.get("active") if q.get("active") in ("yes", "no", "all") else "yes"
        f.date_from, f.date_to = _date(q.get("date_from")), _date(q.get("date_to"))
        f.org = (q.get("org") or "").strip()[:100]
        f.entity = (q.get("entity") or "").strip()[:200]
        f.person = (q.get("person") or "").strip()[:128]
        f.exam = (q.get("exam") or "").strip()[:100]
        f.assignee = (q.get("assignee") or "").strip()[:64]
        f.sort = q.get("sort") if q.get("sort") in SORTS else "occurred"
        f.dir = "asc" if q.get("dir") == "asc" else "desc"
        try:
            pp = int(q.get("per_page") or 50)
        except ValueError:
            pp = 50
        f.per_page = pp if pp in PAGE_SIZES else 50
        return f

    def query(self, **override) -> list[tuple[str, str]]:
        """As query-string pairs (defaults left out), with overrides."""
        d: dict[str, Any] = {
            "rule": self.rule, "severity": self.severity, "district": self.district, "status": self.status,
            "active": None if self.active == "yes" else self.active,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "org": self.org, "entity": self.entity, "person": self.person, "exam": self.exam,
            "assignee": self.assignee, "sort": None if self.sort == "occurred" else self.sort,
            "dir": None if self.dir == "desc" else self.dir,
            "per_page": None if self.per_page == 50 else str(self.per_page)}
        d.update(override)
        out = []
        for k, v in d.items():
            if isinstance(v, list):
                out += [(k, x) for x in v]
            elif v:
                out.append((k, str(v)))
        return out

    def where(self, username: str) -> tuple[list[str], list[Any]]:
        """SQL conditions (constant text) and their bound parameters; ``username``: whose "me" it is."""
        c: list[str] = []
        p: list[Any] = []
        if self.rule:
            c.append("a.rule_code = any(%s)")
            p.append(self.rule)
        if self.severity:
            c.append("a.severity = any(%s)")
            p.append(self.severity)
        if self.district:
            c.append("a.district_code = any(%s)")
            p.append(self.district)
        if self.status:
            c.append("a.status = any(%s)")
            p.append(self.status)
        if self.active == "yes":
            c.append("a.is_active")
        elif self.active == "no":
            c.append("not a.is_active")
        if self.date_from:
            c.append("a.occurred_on >= %s")
            p.append(self.date_from)
        if self.date_to:
            c.append("a.occurred_on <= %s")
            p.append(self.date_to)
        if self.org:
            c.append("a.alert_id in (select l.alert_id from review.alert_links l "
                     "where l.institution_id = %s union select l.alert_id from review.alert_links l where l.org_id = %s)")
            p += [self.org, self.org]
        if self.person:
            c.append("a.alert_id in (select l.alert_id from review.alert_links l where l.person_key = %s)")
            p.append(self.person)
        if self.exam:
            c.append("a.alert_id in (select l.alert_id from review.alert_links l where l.exam_id = %s)")
            p.append(self.exam)
        if self.entity:
            if "|" in self.entity:
                c.append("a.entity_key = %s")
            else:
                c.append("string_to_array(a.entity_key, '|') @> array[%s]::text[]")
            p.append(self.entity)
        if self.assignee == "none":
            c.append("not exists (select 1 from review.assignments s where s.alert_id = a.alert_id "
                     "and s.assignee is not null)")
        elif self.assignee:
            c.append("exists (select 1 from review.assignments s where s.alert_id = a.alert_id and s.assignee = %s)")
            p.append(username if self.assignee == "me" else self.assignee)
        return c, p

    @property
    def is_default(self) -> bool:
        return not self.query(sort=None, dir=None, per_page=None)


# --- keyset cursors ----------------------------------------------------------------------------------

def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, date | datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str | None, sort: str) -> list[Any] | None:
    """The sort key values of a cursor, typed as the sort wants them; None for anything malformed."""
    if not text:
        return None
    try:
        vals = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        types = [t for _, t in SORTS[sort][1]] + [str]
        if not isinstance(vals, list) or len(vals) != len(types):
            return None
        out: list[Any] = []
        for v, t in zip(vals, types, strict=True):
            if t is date:
                out.append(date.fromisoformat(v))
            elif t is datetime:
                out.append(datetime.fromisoformat(v))
            elif t is int:
                out.append(int(v))
            else:
                if not isinstance(v, str):
                    return None
                out.append(v)
        return out
    except (ValueError, TypeError):
        return None


# --- queries -----------------------------------------------------------------------------------------

def list_query(f: Filters, username: str, cursor: list | None, backwards: bool, limit: int):
    """One page of the list after (or, ``backwards``, before) ``cursor``, with its sort keys as k0, k1 …"""
    conds, params = f.where(username)
    keys = [e for e, _ in SORTS[f.sort][1]] + ["a.alert_id"]
    desc = f.dir == "desc"
    forward_desc = desc != backwards
    if cursor is not None:
        op = "<" if forward_desc else ">"
        conds.append(f"({', '.join(keys)}) {op} ({', '.join(['%s'] * len(keys))})")
        params += cursor
    order = ", ".join(f"{k} {'desc' if forward_desc else 'asc'}" for k in keys)
    sel_keys = ", ".join(f"{k} as k{i}" for i, k in enumerate(keys[:-1]))
    q = ("select a.alert_id, a.rule_code, a.severity, a.entity_type, a.entity_key, a.district_code, a.occurred_on,"
         " a.first_detected_at, a.last_detected_at, a.is_active, a.status, a.evidence,"
         " (select s.assignee from review.assignments s where s.alert_id = a.alert_id) as assignee, "
         + sel_keys + " from marts.supervision_alerts a"
         + (" where " + " and ".join(conds) if conds else "") + f" order by {order} limit %s")
    return q, params + [limit]


def count(conn, f: Filters, username: str) -> tuple[int, bool]:
    """The number of matching alerts, and whether it is exact (else the planner's estimate)."""
    conds, params = f.where(username)
    where = (" where " + " and ".join(conds)) if conds else ""
    n = conn.execute(f"select count(*) as n from (select 1 from marts.supervision_alerts a{where} limit %s) s",
                     params + [EXACT_COUNT_CAP + 1]).fetchone()["n"]
    if n <= EXACT_COUNT_CAP:
        return n, True
    plan = conn.execute(f"explain (format json) select 1 from marts.supervision_alerts a{where}", params).fetchone()
    est = int(list(plan.values())[0][0]["Plan"]["Plan Rows"])
    return max(est, n), False


@dataclass
class Page:
    rows: list[dict]
    has_next: bool
    has_prev: bool
    total: int
    exact: bool
    assignees: list[str]


def page_of(conn, f: Filters, username: str, after: list | None, before: list | None, page: int) -> Page:
    """One page of the list (``after`` or ``before`` a cursor), its count and the active users."""
    sql_text, params = list_query(f, username, after or before, before is not None, f.per_page + 1)
    rows = conn.execute(sql_text, params).fetchall()
    has_more = len(rows) > f.per_page
    rows = rows[:f.per_page]
    if before is not None:
        rows.reverse()
    total, exact = count(conn, f, username)
    assignees = active_usernames(conn)
    if before is not None:
        has_next, has_prev = True, has_more
    else:
        has_next, has_prev = has_more, after is not None
    if page == 1:
        has_prev = False
    return Page(rows, has_next, has_prev, total, exact, assignees)


def cursor_of(f: Filters, row: dict) -> str:
    """The cursor just after (or before) ``row`` in the list's sort."""
    nkeys = len(SORTS[f.sort][1])
    return encode_cursor([row[f"k{i}"] for i in range(nkeys)] + [row["alert_id"]])


def active_usernames(conn) -> list[str]:
    """Users one may assign an alert to (row-level security: a district sees its own colleagues)."""
    return [r["username"] for r in conn.execute("select username from review.users where active order by username")]


def export_query(f: Filters, username: str) -> tuple[str, list[Any]]:
    conds, params = f.where(username)
    keys = [e for e, _ in SORTS[f.sort][1]] + ["a.alert_id"]
    order = ", ".join(f"{k} {f.dir}" for k in keys)
    q = ("select a.alert_id, a.rule_code, a.severity, a.entity_type, a.entity_key, a.district_code, a.occurred_on,"
         " a.first_detected_at, a.last_detected_at, a.is_active, a.status,"
         " (select s.assignee from review.assignments s where s.alert_id = a.alert_id) as assignee,"
         " l.institution_id, l.org_id, l.exam_id, a.evidence"
         " from marts.supervision_alerts a left join review.alert_links l on l.alert_id = a.alert_id"
         + (" where " + " and ".join(conds) if conds else "") + f" order by {order}")
    return q, params


def export_csv(pool, district_code: str | None, f: Filters, username: str) -> Iterator[str]:
    """The filtered list as CSV text chunks (about 64 kB each), read with a server-side cursor."""
    q, params = export_query(f, username)
    buf = io.StringIO()
    w = csv.writer(buf)
    buf.write("\ufeff")   # Excel opens UTF-8 (Chinese) correctly with a BOM
    w.writerow(EXPORT_COLUMNS + ["district_name", "rule_name"])
    with pool.as_user(district_code) as conn:
        with conn.cursor(name="export") as c:
            c.itersize = 2000
            c.execute(q, params)
            for r in c:
                w.writerow([csv_safe(r[k]) for k in EXPORT_COLUMNS]
                           + [cat.ALL_DISTRICTS.get(r["district_code"], ""),
                              cat.RULES.get(r["rule_code"], ("", "", "", ""))[3]])
                if buf.tell() > 64_000:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
    yield buf.getvalue()


def csv_safe(v: Any) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    s = str(v)
    return "'" + s if isinstance(v, str) and s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def fmt_evidence(ev: Any, limit: int = 4) -> str:
    """An alert's evidence in one short line (the list's column)."""
    if not isinstance(ev, dict):
        return ""
    items = list(ev.items())[:limit]
    s = ", ".join(f"{k}: {v}" for k, v in items)
    return s + (" …" if len(ev) > limit else "")
