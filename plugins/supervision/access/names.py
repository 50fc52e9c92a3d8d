"""The names of the warehouse's roles, and the environment variable of each login's password.

Pure functions of the district list: importing this module touches no database.
"""
from __future__ import annotations

from supervision.config import DISTRICTS

# Login roles.
BI_ROLE = "supervision_bi"
LOADER_ROLE = "supervision_loader"
APP_ROLE = "supervision_app"
REVIEWER_CITY = "reviewer_city"

# Group roles (NOLOGIN) of the review application: every alert (city) or one district's.
CITY_ROLE = "supervision_city"
# Read-only group roles: SELECT on the alert table under row-level security.
READ_CITY_ROLE = "supervision_read_city"


def district_role(code: str) -> str:
    """The review group role of a district (``supervision_district_<code>``); unknown codes refused."""
    if code not in DISTRICTS:
        raise ValueError(f"unknown district code {code!r}")
    return f"supervision_district_{code}"


def read_role(code: str | None) -> str:
    """The read-only role showing a district's alerts (None: the city's, every row)."""
    if code is None:
        return READ_CITY_ROLE
    if code not in DISTRICTS:
        raise ValueError(f"unknown district code {code!r}")
    return f"supervision_read_district_{code}"


def role_for(district_code: str | None) -> str:
    """The group role the review application sets for a user of that district (None: a city user)."""
    return CITY_ROLE if district_code is None else district_role(district_code)


def group_roles() -> list[str]:
    """The review application's group roles: the city's and one per district."""
    return [CITY_ROLE, *(district_role(c) for c in DISTRICTS)]


def read_roles() -> list[str]:
    """The read-only group roles: the city's and one per district."""
    return [READ_CITY_ROLE, *(read_role(c) for c in DISTRICTS)]


def district_reviewer(code: str) -> str:
    """The reviewer login of a district (``reviewer_<code>``)."""
    return f"reviewer_{code}"


def reviewer_roles() -> dict[str, str]:
    """Every reviewer login role and the read-only group role it inherits."""
    roles = {district_reviewer(code): read_role(code) for code in DISTRICTS}
    roles[REVIEWER_CITY] = READ_CITY_ROLE
    return roles


def login_roles() -> tuple[str, ...]:
    """The login roles ``sync_roles`` keeps in step (the application's login is made with the RLS)."""
    return (BI_ROLE, LOADER_ROLE, *reviewer_roles())


def password_env(role: str) -> str:
    """The environment variable holding a role's password: ``supervision_bi`` -> ``SUPERVISION_BI_PASSWORD``."""
    name = role.removeprefix("supervision_")
    return f"SUPERVISION_{name.upper()}_PASSWORD"
