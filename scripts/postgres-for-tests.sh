#!/usr/bin/env bash
# Starts a throw-away PostgreSQL for the integration tests and prints its URL on stdout:
#   eval "$(scripts/postgres-for-tests.sh start)"   # sets TILEWORKS_TEST_DATABASE_URL, PG_TEST_DIR
#   scripts/postgres-for-tests.sh stop "$PG_TEST_DIR"
# Debian's postgresql package (installed if missing); initdb into a temporary directory as the
# `postgres` user (initdb refuses root), listening on a free loopback port and a socket in that
# directory. The tests create one database per test server in it.
set -euo pipefail

bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ]; then
        echo "installing postgresql (Debian package)" >&2
        apt-get install -y -q postgresql >&2
        dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$dir"
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
start)
    bin=$(bin_dir)
    dir=$(mktemp -d /tmp/tileworks-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log"
    # Throw-away data: no fsync; enough connections for parallel test servers (8 each).
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
        start >&2
    echo "export PG_TEST_DIR=$dir"
    echo "export TILEWORKS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    dir=${2:?usage: $0 stop DIR}
    bin=$(bin_dir)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
