"""The demo's closing summary: alerts by rule and district, the city's progress on the 2024 targets."""
from __future__ import annotations

from supervision.config import CITY_CODE, DISTRICTS
from supervision.warehouse import one_row


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[tuple], headers: list[str]) -> str:
    cells = [headers] + [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max(_width(c[i]) for c in cells) for i in range(len(headers))]
    lines = ["  ".join(c[i] + " " * (widths[i] - _width(c[i])) for i in range(len(headers))).rstrip()
             for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def city_queue_line(conn, active: int) -> str:
    """Who handles the city-level alerts (district 310000): the city queue, seen by every city user."""
    line = f"City queue ({CITY_CODE}, city-level alerts, handled by the city's review users): {active:,} active alerts"
    if one_row(conn.execute("select to_regclass('review.users')"))[0] is None:
        return line + " (no review users yet: `supervision users add NAME` without --district makes a city user)"
    users = one_row(conn.execute("select count(*) from review.users where district_code is null and active"))[0]
    if not users:
        return line + "; no active city user: `supervision users add NAME` without --district makes one"
    return line + f"; {users} active city user{'s' if users != 1 else ''}"


def summary_text(url: str | None = None) -> str:
    from supervision.warehouse import connect

    out = []
    with connect(url) as conn:
        by_rule = conn.execute("""
            select rule_code, severity, count(*) filter (where is_active) as active, count(*) as ever
            from marts.supervision_alerts group by 1, 2 order by 2, 1""").fetchall()
        out.append("Alerts by rule (active / ever found)")
        out.append(_table(by_rule, ["rule", "severity", "active", "ever"]))
        by_district = conn.execute("""
            select district_code, count(*) filter (where severity = 'high'),
                   count(*) filter (where severity = 'medium'), count(*) filter (where severity = 'low'),
                   count(*)
            from marts.supervision_alerts where is_active group by 1 order by 1""").fetchall()
        out.append("\nActive alerts by district")
        out.append(_table([(d, DISTRICTS.get(d, "city" if d == CITY_CODE else "?"), *r)
                           for d, *r in by_district], ["district", "name", "high", "medium", "low", "all"]))
        out.append(city_queue_line(conn, sum(r[-1] for r in by_district if r[0] == CITY_CODE)))
        have = one_row(conn.execute("select to_regclass('marts.district_target_progress')"))[0]
        if have:
            progress = conn.execute("""
                select metric_code, to_char(month, 'YYYY-MM'), ytd_value, annual_target,
                       round(ytd_pct_of_target, 1)
                from marts.district_target_progress
                where district_code = %s
                  and month = (select max(month) from marts.district_target_progress where month_value > 0)
                order by metric_code""", (CITY_CODE,)).fetchall()
            out.append("\nThe city against the 2024 targets (year to date, to the latest month with data)")
            out.append(_table(progress, ["metric", "month", "ytd", "2024 target", "% of target"]))
        else:
            out.append("\n(marts.district_target_progress not built yet)")
        loads = conn.execute("""
            select source, count(*), sum(received), sum(loaded), sum(duplicates), sum(quarantined)
            from ops.load_audit group by 1 order by 1""").fetchall()
        out.append("\nWhat arrived and what became of it (ops.load_audit)")
        out.append(_table(loads, ["source", "loads", "received", "loaded", "duplicates", "quarantined"]))
    return "\n".join(out)


def print_summary(url: str | None = None) -> None:
    print(summary_text(url))
