# Sourced by the tests/scripts/pg_*.sh tests (not a test itself: it exits 0 when run alone).
# pg_start: a throwaway PostgreSQL cluster in a temporary directory, run by the unprivileged
# `postgres` user on 127.0.0.1 and a free port; stopped and removed by a trap, even on failure.
# Sets PGURI (the crm database, with a password) and PGBIN; psql_q runs SQL on it; no_secret FILE...
# fails when the password appears in any of the files. No binaries: the test FAILS
# (./setup.sh test installs Debian's postgresql).
[ "${BASH_SOURCE[0]}" = "$0" ] && exit 0

pg_start() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "FAIL: PostgreSQL server binaries not found (apt-get install postgresql; ./setup.sh test does)" >&2
    exit 1
  fi
  local runas=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "FAIL: no 'postgres' user to run the server as" >&2; exit 1; }
    runas=(runuser -u postgres --)
  fi
  PGTMP=$(mktemp -d "${PG_TMPDIR:-/tmp}/crm-pg.XXXXXX")  # PG_TMPDIR: a roomier place for big benchmarks
  chmod 755 "$PGTMP"
  [ "$(id -u)" = 0 ] && chown postgres "$PGTMP"
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  trap pg_stop EXIT
  # Password authentication over TCP (so tests see auth failures and that the password is never
  # printed); the password has characters that need URI escaping.
  PGPASSWORD_RAW='s3cr3t-Pw;x'
  printf '%s\n' "$PGPASSWORD_RAW" >"$PGTMP/pw"
  [ "$(id -u)" = 0 ] && chown postgres "$PGTMP/pw"
  "${runas[@]}" "$PGBIN/initdb" -D "$PGTMP/data" -U crm --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$PGTMP/pw" -E UTF8 --no-locale >"$PGTMP/initdb.log" 2>&1 ||
    { cat "$PGTMP/initdb.log" >&2; echo "FAIL: initdb" >&2; exit 1; }
  "${runas[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTS:-}" \
    start >/dev/null || { cat "$PGTMP/server.log" >&2; echo "FAIL: pg_ctl start" >&2; exit 1; }
  PG_RUNAS=("${runas[@]}")
  PGPASSWORD="$PGPASSWORD_RAW" "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U crm crm  # crm gets it in the URI
  PGPW_URI='s3cr3t-Pw%3Bx'
  PGURI="postgresql://crm:$PGPW_URI@127.0.0.1:$PGPORT/crm"
  export PGURI PGPORT PGBIN PGPW_URI PGPASSWORD_RAW
}

pg_stop() {
  local rc=$?
  if [ -n "${PGTMP:-}" ] && [ -d "$PGTMP" ]; then
    "${PG_RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
  fi
  exit $rc
}

# psql_q [DB] SQL: one query on the test server, unaligned output without headers.
psql_q() {
  local db=crm
  [ $# -ge 2 ] && { db=$1; shift; }
  PGPASSWORD="$PGPASSWORD_RAW" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$PGPORT" -U crm -d "$db" -c "$1"
}

# A fresh database on the test server; prints its URI.
pg_newdb() {
  PGPASSWORD="$PGPASSWORD_RAW" "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U crm "$1" && echo "postgresql://crm:$PGPW_URI@127.0.0.1:$PGPORT/$1"
}

# Fails the test when the password shows in any of the files (crm's outputs).
no_secret() {
  if grep -l -e "$PGPASSWORD_RAW" -e "$PGPW_URI" "$@" 2>/dev/null; then
    echo "FAIL: the password was printed (files above)" >&2
    exit 1
  fi
}
