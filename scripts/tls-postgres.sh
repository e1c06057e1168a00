#!/usr/bin/env bash
# Runs a command beside a PostgreSQL of its own that takes TLS connections only, as the TLS tests need:
#
#   scripts/tls-postgres.sh npm run test:tls
#   scripts/tls-postgres.sh bash          # a shell with the variables set, to try things by hand
#
# In a temporary directory it makes, with openssl, a CA, a server certificate signed by it for 127.0.0.1 and
# localhost, and a second, unrelated CA; starts a PostgreSQL 15 cluster on a free port (ssl on, hostssl only, trust,
# listening on 127.0.0.1 and 127.0.0.2, which the certificate does not name); runs the command with
# TEST_TLS_DATABASE_URL (sslmode=verify-full), TEST_TLS_CA_FILE and TEST_TLS_WRONG_CA_FILE set; and stops the cluster
# and removes the directory when the command ends, with the command's exit code. As root (CI), the cluster runs as
# the postgres user. PG_BIN overrides /usr/lib/postgresql/15/bin.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGUMENTS...]" >&2
    exit 2
fi

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/todo-api-tls.XXXXXX")
certs=$dir/certs
data=$dir/data

# initdb and postgres refuse to run as root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop() {
    if [ -f "$data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# A CA: a self-signed certificate for signing certificates, and its key.
make_ca() {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$certs/$1.key" -out "$certs/$1.crt" 2>/dev/null
}

mkdir "$certs"
make_ca ca 'todo-api test CA'
make_ca wrong-ca 'an unrelated CA'
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
    'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' > "$certs/server.ext"
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial -days 2 \
    -extfile "$certs/server.ext" -out "$certs/server.crt" 2>/dev/null
chmod 600 "$certs/server.key"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$dir"
fi

# Durability is of no use to a cluster thrown away at the end: no fsync, the smallest memory.
as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync --no-instructions -E UTF8 --locale=C.UTF-8 >/dev/null
cat >> "$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1,127.0.0.2'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$certs/server.crt'
ssl_key_file = '$certs/server.key'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 40
EOF
# TLS or nothing: a connection without it finds no entry.
cat > "$data/pg_hba.conf" <<EOF
local   all all              trust
hostssl all all 127.0.0.1/32 trust
hostssl all all 127.0.0.2/32 trust
EOF

if ! as_owner "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 start >/dev/null; then
    echo "$0: PostgreSQL with TLS did not start:" >&2
    cat "$dir/postgres.log" >&2
    exit 1
fi

set +e
TEST_TLS_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=verify-full" \
TEST_TLS_CA_FILE="$certs/ca.crt" \
TEST_TLS_WRONG_CA_FILE="$certs/wrong-ca.crt" \
    "$@"
code=$?
set -e
exit $code
