{#-
  dbt's drop of a relation, with one lock that makes a build's drops take turns.

  A table model's rebuild renames its previous version to `<name>__dbt_backup` and, once the new
  table is committed, drops it with CASCADE, which drops the views built on it (they are rebuilt
  later in the same build). Views that read several tables are dropped by each of those tables'
  drops: `int_alerts_joined_to_owners` reads five tables, `int_months_holding_data` four. With two
  threads, two such drops run at once, each locking the shared views' rules in the order it finds
  them, and PostgreSQL can stop one of them with "deadlock detected" (seen on a small day's models
  build: dim_exam_sessions and fct_certificates, each waiting for the other's lock on a view's
  rule), failing the build and the day. Taking one transaction-level advisory lock before the
  drop, in the drop's own transaction, makes the drops wait for each other instead: a drop takes
  milliseconds, and the lock goes with the drop's commit. The lock's key is
  `hashtext('supervision.dbt.drop_relation')`, in the warehouse's database only.
-#}
{% macro postgres__drop_relation(relation) -%}
    {% call statement('drop_relation', auto_begin=False) -%}
        select pg_advisory_xact_lock(hashtext('supervision.dbt.drop_relation'));
        {{ get_drop_sql(relation) }}
    {%- endcall %}
{% endmacro %}
