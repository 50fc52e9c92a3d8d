"""`supervision users add|list|disable|passwd`: review application users, managed by the warehouse owner.

A user without ``--district`` is a city user (sees every district); with it, a district user.
The password comes from ``--password``, else ``SUPERVISION_NEW_PASSWORD``, else a prompt.
"""
from __future__ import annotations

import getpass
import sys

from argon2 import PasswordHasher

from supervision.config import CITY_CODE, DISTRICTS, settings

MIN_PASSWORD = 8
_hasher = PasswordHasher()   # argon2id, the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _password(args) -> str:
    new = settings().new_password
    pw = getattr(args, "password", None) or (new.get_secret_value() if new else None)
    if not pw:
        if not sys.stdin.isatty():
            raise SystemExit("no password: give --password, set SUPERVISION_NEW_PASSWORD, or run interactively")
        pw = getpass.getpass("password: ")
        if getpass.getpass("again: ") != pw:
            raise SystemExit("passwords differ")
    if len(pw) < MIN_PASSWORD:
        raise SystemExit(f"password too short (at least {MIN_PASSWORD} characters)")
    return pw


def _district(code: str | None) -> str | None:
    if code in (None, "", CITY_CODE, "city"):
        return None
    if code not in DISTRICTS:
        raise SystemExit(f"unknown district {code!r}; one of {', '.join(DISTRICTS)} (or omit for a city user)")
    return code


def add_user(url: str | None, username: str, password: str, district_code: str | None,
             display_name: str | None = None) -> None:
    from supervision.warehouse import connect

    with connect(url) as conn:
        conn.execute(
            "insert into review.users (username, password_hash, district_code, display_name) "
            "values (%s, %s, %s, %s) on conflict (username) do update set password_hash = excluded.password_hash,"
            " district_code = excluded.district_code, active = true, password_changed_at = now(),"
            " display_name = coalesce(excluded.display_name, review.users.display_name)",
            (username, hash_password(password), _district(district_code), display_name))
        conn.commit()


def set_password(url: str | None, username: str, password: str) -> bool:
    from supervision.warehouse import connect

    with connect(url) as conn:
        n = conn.execute("update review.users set password_hash = %s, password_changed_at = now() "
                         "where username = %s", (hash_password(password), username)).rowcount
        conn.commit()
    return n == 1


def disable_user(url: str | None, username: str) -> bool:
    from supervision.warehouse import connect

    with connect(url) as conn:
        n = conn.execute("update review.users set active = false, password_changed_at = now() "
                         "where username = %s", (username,)).rowcount
        conn.commit()
    return n == 1


def list_users(url: str | None) -> list[tuple]:
    from supervision.warehouse import connect

    with connect(url) as conn:
        return conn.execute("select username, coalesce(district_code, 'city'), active, created_at "
                            "from review.users order by district_code nulls first, username").fetchall()


def main(args) -> int:
    from supervision.review.schema import install

    install(None)
    action, name = args.action, args.username
    if action != "list" and not name:
        raise SystemExit(f"users {action}: give a user name")
    if action == "add":
        add_user(None, name, _password(args), args.district)
        print(f"user {name} ({'city' if _district(args.district) is None else args.district}) saved")
    elif action == "passwd":
        if not set_password(None, name, _password(args)):
            raise SystemExit(f"no user {name!r}")
        print(f"password of {name} changed (their sessions are signed out)")
    elif action == "disable":
        if not disable_user(None, name):
            raise SystemExit(f"no user {name!r}")
        print(f"user {name} disabled")
    else:
        rows = list_users(None)
        print(f"{'user':<24} {'district':<10} {'active':<7} created")
        for u, d, a, c in rows:
            print(f"{u:<24} {d:<10} {'yes' if a else 'no':<7} {c:%Y-%m-%d %H:%M}")
    return 0
