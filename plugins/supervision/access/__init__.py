"""Database access of the warehouse: roles, grants, row-level security and logins, in one place.

| role | login | can |
|---|---|---|
| ``supervision_bi`` | yes | read schema ``marts`` and nothing else (read-only default transactions, a statement timeout); every alert, through its own SELECT policy on ``marts.supervision_alerts`` |
| ``supervision_loader`` | yes | read and write the tables of ``raw_training``, ``raw_video``, ``raw_assessment``, ``ops`` and ``pii`` (no DDL) |
| ``reviewer_<district>`` (16) | yes | member of ``supervision_read_district_<district>``: SELECT on the alert table, its district's rows only (row-level security) |
| ``reviewer_city`` | yes | member of ``supervision_read_city``: SELECT on every alert |
| ``supervision_app`` | yes | the review application's login: no rows of its own; ``SET LOCAL ROLE`` to a group below per transaction |
| ``supervision_city``, ``supervision_district_<code>`` | no | the review groups: every alert / one district's; triage by inserting audit events, which change the status and assignment (no UPDATE of their own) |
| ``supervision_read_city``, ``supervision_read_district_<code>`` | no | the same rows, read only |

Reviewer logins inherit the *read* roles, not the review groups ``supervision_city`` /
``supervision_district_<code>``: those may also write audit events (which change an alert's status),
which must go through the review application (it names the reviewer of each transaction). BI is not a member of
``supervision_read_city`` either (that role has USAGE on schema ``review``): it has a policy of its own.

Passwords come from ``settings().secret("<role>_password", "SUPERVISION_<NAME>_PASSWORD")`` (the env
variable wins; else ``$SUPERVISION_VAR_DIR/secrets.json``, made on first use): ``SUPERVISION_BI_PASSWORD``,
``SUPERVISION_LOADER_PASSWORD``, ``SUPERVISION_APP_PASSWORD``, ``SUPERVISION_REVIEWER_CITY_PASSWORD``,
``SUPERVISION_REVIEWER_310101_PASSWORD`` … Every password is sent to the server as a SCRAM-SHA-256
verifier computed on the client (``ddl.set_password``), never in plain text. Roles are cluster-wide;
grants, policies and indexes are made in the warehouse database.

Modules: ``names`` (role names, pure), ``logins`` (passwords, URLs), ``ddl`` (role statements),
``rls`` (the review application's groups, login and policies), ``sync`` (BI, loader, reviewers, indexes).
"""
from __future__ import annotations

from supervision.access.ddl import ensure_role, scram_verifier, set_password
from supervision.access.logins import app_url, role_password, role_url
from supervision.access.names import (
    APP_ROLE,
    BI_ROLE,
    CITY_ROLE,
    LOADER_ROLE,
    READ_CITY_ROLE,
    REVIEWER_CITY,
    district_reviewer,
    district_role,
    group_roles,
    login_roles,
    password_env,
    read_role,
    read_roles,
    reviewer_roles,
    role_for,
)
from supervision.access.rls import install_security
from supervision.access.sync import BI_INDEXES, ensure_bi_indexes, sync_roles

__all__ = [
    "APP_ROLE", "BI_INDEXES", "BI_ROLE", "CITY_ROLE", "LOADER_ROLE", "READ_CITY_ROLE", "REVIEWER_CITY",
    "app_url", "district_reviewer", "district_role", "ensure_bi_indexes", "ensure_role", "group_roles",
    "install_security", "login_roles", "password_env", "read_role", "read_roles", "reviewer_roles",
    "role_for", "role_password", "role_url", "scram_verifier", "set_password", "sync_roles",
]
