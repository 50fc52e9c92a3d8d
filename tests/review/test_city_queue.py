"""Every alert has an owner: city-level alerts (district 310000) are the city queue, which the city's
users see and work, and the overview page and ``supervision summary`` say so."""
from __future__ import annotations

import re
from datetime import date

import psycopg

from .conftest import CITY, PD_USER
from .seed import PUDONG, add_alert


def test_city_level_alerts_are_the_city_queue(make_client, seeded):
    from supervision.access import app_url
    from supervision.summary import summary_text

    url = seeded["url"]
    with psycopg.connect(url) as conn:
        city_alerts = [add_alert(conn, "ABNORMAL_PASS_RATE", "medium", "exam", f"EX-CITY-{i}", "310000",
                                 date(2024, 3, 10), {"n": 30, "pass_rate": 1.0}) for i in range(3)]
        conn.commit()
    # the database: the city's role sees them, no district role does
    with psycopg.connect(app_url(url)) as conn:
        for role, seen in (("supervision_city", 3), (f"supervision_district_{PUDONG}", 0)):
            with conn.transaction():
                conn.execute(f"set local role {role}")
                assert conn.execute("select count(*) from marts.supervision_alerts where district_code = '310000'"
                                    ).fetchone()[0] == seen, role
    # the list: the city's users have the queue, a district's users do not
    city = make_client(CITY)
    listed = re.findall(r'data-alert-id="([0-9a-f]{20})"', city.get("/alerts?district=310000").text)
    assert sorted(listed) == sorted(city_alerts)
    pd = make_client(PD_USER)
    assert not set(re.findall(r'data-alert-id="([0-9a-f]{20})"', pd.get("/alerts?district=310000").text))
    # a city user triages one (the event is the city user's)
    token = re.search(r'name="csrf_token" value="([^"]+)"', city.get(f"/alerts/{city_alerts[0]}").text).group(1)
    r = city.post(f"/alerts/{city_alerts[0]}/triage", data={"action": "confirm", "csrf_token": token},
                  follow_redirects=False)
    assert r.status_code == 303
    # the overview says how many alerts the city queue holds, to city users
    html = city.get("/overview").text
    queue = re.search(r'id="city-queue".*?<strong>([0-9,]+)</strong>', html, re.S)
    assert queue and queue.group(1) == "3" and "?district=310000" in html.split('id="city-queue"')[1][:400]
    assert 'id="city-queue"' not in pd.get("/overview").text
    # and so does the summary, with who handles them
    text = summary_text(url)
    assert "City queue (310000, city-level alerts, handled by the city's review users): 3 active alerts" in text
    assert "1 active city user" in text
    with psycopg.connect(url) as conn:
        conn.execute("update review.users set active = false where district_code is null")
        conn.commit()
    assert "no active city user" in summary_text(url)
