#!/usr/bin/env bash
# Start a PostgreSQL server for the store tests and print the URL the tests use.
# Debian's packages, a cluster owned by the postgres user, a role with a password made
# up now (no default credentials); listens on 127.0.0.1 only.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) 1>&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null 1>&2
fi
conf=/etc/postgresql/$version/main/conf.d/steward-tests.conf
if [ ! -f "$conf" ]; then
  # a throwaway test server: durability traded for speed
  printf "listen_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n" >"$conf"
  pg_ctlcluster "$version" main restart 1>&2 || true
fi
pg_ctlcluster "$version" main start 1>&2 2>/dev/null || true
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
password=$(python3 -c "import secrets; print(secrets.token_hex(16))")
su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steward_test') THEN
    CREATE ROLE steward_test LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE steward_test PASSWORD '$password';
SQL
echo "postgresql+psycopg://steward_test:$password@127.0.0.1:5432/postgres"
