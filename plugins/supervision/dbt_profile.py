"""The dbt profile Cosmos builds from the warehouse connection, password optional.

Cosmos' ``PostgresUserPasswordProfileMapping`` requires a password ("Could not find a value for
secret field password"), but a warehouse reached through trust or peer authentication, a
``.pgpass`` file (``PGPASSFILE``) or ``PGPASSWORD`` has none in its URL. dbt-postgres insists on a
``password`` key, and libpq treats an empty password as "look in the password file" but ignores
``PGPASSWORD`` then: so without a password in the connection the profile reads
``{{ env_var('PGPASSWORD', '') }}``, which covers all three.
"""
from __future__ import annotations

from typing import Any

from cosmos import ProfileConfig
from cosmos.profiles import PostgresUserPasswordProfileMapping

from supervision.dbt_runner import PROFILE, TARGET

NO_PASSWORD = "{{ env_var('PGPASSWORD', '') }}"


class PostgresProfileMapping(PostgresUserPasswordProfileMapping):
    """Postgres connection -> dbt profile; the password comes from the connection when it has one,
    else from libpq's own sources (``PGPASSWORD``, the password file)."""

    required_fields = ["host", "user", "dbname"]
    secret_fields: list[str] = ["password"]

    def _has_password(self) -> bool:
        return bool(self.get_dbt_value("password"))

    @property
    def env_vars(self) -> dict[str, str]:
        if self._has_password():
            return super().env_vars
        saved = self.secret_fields
        self.secret_fields = []  # nothing secret to hand over: libpq finds the password itself
        try:
            return super().env_vars
        finally:
            self.secret_fields = saved

    @property
    def profile(self) -> dict[str, Any]:
        profile = dict(super().profile)
        if not self._has_password():
            profile["password"] = NO_PASSWORD
        return profile


def profile_config(conn_id: str) -> ProfileConfig:
    """The dbt profile of the marts DAG's Cosmos task groups, from the Airflow connection ``conn_id``."""
    # the profile and target names of dbt_project/profiles.yml (``dbt_runner`` passes them too): dbt's
    # parse state includes both, so a parse made by either (the docs, a build) serves the other
    return ProfileConfig(profile_name=PROFILE, target_name=TARGET,
                         profile_mapping=PostgresProfileMapping(conn_id=conn_id,
                                                                profile_args={"schema": "public", "threads": 2}))
