#!/usr/bin/env bash
# Entrypoint of the platform image: checks the configuration every component needs, derives the
# Airflow connections from the SUPERVISION_* URLs, then runs the command given (exec: the command
# gets the signals). Works with compose's `command:` and with the Helm chart's `bash -c "exec airflow ..."`.
set -euo pipefail

if (($# == 0)); then set -- supervision --help; fi
case " $* " in  # help and version need no configuration
  *" --help "*|*" -h "*|" airflow version ") exec "$@" ;;
esac

missing=()
for var in SUPERVISION_WAREHOUSE_URL SUPERVISION_AIRFLOW_DB_URL SUPERVISION_PII_KEY; do
  # Without these a container would start an embedded server of its own, or pseudonymise with a key
  # of its own (person_key would differ between workers): refuse to start instead.
  [[ -n "${!var:-}" ]] || missing+=("$var")
done
if ((${#missing[@]})); then
  echo "entrypoint: set ${missing[*]} (see docker/.env.example and docs/DEPLOYMENT.md)" >&2
  exit 64
fi

# Airflow connections used by the DAGs, from the same URLs (Airflow names the scheme 'postgres').
export AIRFLOW_CONN_SUPERVISION_WAREHOUSE="${AIRFLOW_CONN_SUPERVISION_WAREHOUSE:-postgres://${SUPERVISION_WAREHOUSE_URL#*://}}"
if [[ -n "${SUPERVISION_TRAINING_DB_URL:-}" ]]; then
  export AIRFLOW_CONN_SUPERVISION_TRAINING_DB="${AIRFLOW_CONN_SUPERVISION_TRAINING_DB:-postgres://${SUPERVISION_TRAINING_DB_URL#*://}}"
fi
mkdir -p "${SUPERVISION_VAR_DIR:-/opt/supervision/var}" "${AIRFLOW_HOME:-/opt/airflow}/logs" 2>/dev/null || true

exec "$@"
