#!/usr/bin/env bash
# Start a PostgreSQL server for the store tests and print the URL the tests use.
#
# Debian's packages (installed when missing), the "main" cluster of the newest version,
# listening on 127.0.0.1 only, and a role `steward_test` (CREATEDB: each test makes its
# own database) whose password is made up on the first run and kept in a root-only file,
# so that running this again prints the same URL and does not lock out tests already
# using it. Idempotent; restarts the server only when its settings change. Runs as root
# (CI) or through `sudo -n`. Only the URL goes to stdout; everything else to stderr.
set -euo pipefail
exec 3>&1 1>&2

# Every command that may start the server runs with the file descriptors above 2 closed:
# a server that inherits the pipe of the caller's `$(.ci/postgres.sh)` (fd 3 here) or of
# whatever runs CI keeps it open for good, and the caller waits for its end forever.
fds_closed() {
  python3 -c 'import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], close_fds=True))' "$@"
}
as_root() { if [ "$(id -u)" -eq 0 ]; then fds_closed "$@"; else fds_closed sudo -n "$@"; fi; }
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then fds_closed runuser -u postgres -- "$@"
  else fds_closed sudo -n -u postgres "$@"; fi
}
cluster() {  # the field $1 (3: port, 4: status) of the cluster "$version main"
  pg_lsclusters -h | awk -v v="$version" -v f="$1" '$1 == v && $2 == "main" { print $f }'
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if [ -z "$(cluster 2)" ]; then
  as_root pg_createcluster "$version" main >/dev/null
fi

# a throwaway test server: durability traded for speed
settings="listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200"
conf=/etc/postgresql/$version/main/conf.d/steward-tests.conf
changed=0
if [ "$(as_root cat "$conf" 2>/dev/null || true)" != "$settings" ]; then
  printf '%s\n' "$settings" | as_root tee "$conf" >/dev/null
  changed=1
fi
case "$(cluster 4)" in
  online*) if [ "$changed" = 1 ]; then as_root pg_ctlcluster "$version" main restart; fi ;;
  *) as_root pg_ctlcluster "$version" main start ;;
esac
port=$(cluster 3)
for _ in $(seq 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  echo "PostgreSQL $version did not start on 127.0.0.1:$port; its log:"
  as_root tail -n 30 "/var/log/postgresql/postgresql-$version-main.log" || true
  exit 1
fi

secret=/etc/postgresql/$version/main/steward-tests.password
if [ -z "$(as_root cat "$secret" 2>/dev/null || true)" ]; then
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | (umask 077 && as_root tee "$secret" >/dev/null)
  as_root chmod 600 "$secret"
fi
password=$(as_root cat "$secret")
# the password reaches psql as a variable (:'pw' quotes it), never spliced into the SQL text
as_postgres psql -q -X -v ON_ERROR_STOP=1 -p "$port" -v pw="$password" >/dev/null <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steward_test') AS missing \gset
\if :missing
  CREATE ROLE steward_test LOGIN CREATEDB;
\endif
ALTER ROLE steward_test PASSWORD :'pw';
-- the tests drop their databases WITH (FORCE), which must also stop an autovacuum
-- worker that happens to be in one; without this that drop fails now and then
SET client_min_messages = warning;
GRANT pg_signal_backend TO steward_test;
SQL
echo "postgresql+psycopg://steward_test:$password@127.0.0.1:$port/postgres" >&3
