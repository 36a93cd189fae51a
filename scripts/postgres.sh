#!/usr/bin/env bash
# Runs a throwaway PostgreSQL cluster for the integration tests.
#
#   scripts/postgres.sh start <dir>   creates a fresh cluster in <dir> (wiping any previous one there), starts it on
#                                     127.0.0.1 on a free TCP port and prints exactly one line to stdout, the Npgsql
#                                     connection string:
#                                     Host=127.0.0.1;Port=NNNN;Username=dashboard;Password=dashboard;Database=dashboard
#   scripts/postgres.sh stop <dir>    stops the cluster (immediate mode, errors ignored) and removes <dir>.
#
# The role "dashboard" is a superuser (it can CREATE DATABASE). The cluster is tuned for speed, not durability
# (fsync, synchronous_commit and full_page_writes are off). Installs Debian's "postgresql" package when no
# /usr/lib/postgresql/*/bin/initdb exists. PostgreSQL refuses to run as root, so as root the server runs as the
# "postgres" system user (created if missing), which then owns <dir>.
# Everything except the connection string goes to stderr.
set -euo pipefail

exec 3>&1 1>&2   # fd 3 = the real stdout, reserved for the connection string

die() { echo "postgres.sh: error: $*" >&2; exit 1; }
log() { echo "postgres.sh: $*" >&2; }

usage() { die "usage: $0 start|stop <dir>"; }
[ $# -eq 2 ] || usage
action=$1
[ -n "$2" ] || usage
dir=$(realpath -m -- "$2")
case "$dir" in
  /|/tmp|/root|/home|/var|/usr|/etc) die "refusing to use '$dir' as the cluster directory" ;;
esac
cd /   # the postgres user may not be able to enter the caller's working directory

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

# Runs a command as the user that owns the cluster: "postgres" when we are root, ourselves otherwise.
as_owner() {
  if [ "$is_root" -eq 1 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

find_bindir() {
  local d
  bindir=""
  # Highest installed major version wins.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir=$d
  done
  return 0
}

install_postgres() {
  local sudo_cmd=""
  [ "$is_root" -eq 1 ] || sudo_cmd="sudo"
  log "PostgreSQL not found, installing Debian's postgresql package"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q postgresql
}

ensure_postgres_user() {
  getent passwd postgres >/dev/null && return 0
  log "creating the postgres system user"
  getent group postgres >/dev/null || groupadd --system postgres
  useradd --system --gid postgres --home-dir /var/lib/postgresql --no-create-home \
    --shell /bin/bash --comment "PostgreSQL administrator" postgres
}

# Stops a cluster in $dir (if any) and removes $dir.
stop_cluster() {
  [ -e "$dir" ] || return 0
  find_bindir
  if [ -f "$dir/postmaster.pid" ]; then
    if [ -n "$bindir" ]; then
      if [ "$is_root" -eq 1 ] && getent passwd postgres >/dev/null; then
        as_owner "$bindir/pg_ctl" -D "$dir" stop -m immediate -w -t 20 >&2 || true
      else
        "$bindir/pg_ctl" -D "$dir" stop -m immediate -w -t 20 >&2 || true
      fi
    fi
    # Last resort: the postmaster is still alive (pg_ctl missing or failed).
    local pid
    pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/comm" ] && grep -qx 'postgres' "/proc/$pid/comm" 2>/dev/null; then
      log "postmaster $pid still running, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    fi
  fi
  rm -rf -- "$dir" || die "could not remove $dir"
}

# Prints a TCP port that is currently free on 127.0.0.1 (outside the ephemeral range when possible).
pick_port() {
  if command -v python3 >/dev/null 2>&1 && python3 - <<'EOF' 2>/dev/null
import random, socket, sys
for port in random.sample(range(20000, 32000), 200):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
  then
    return 0
  fi
  # Fallback without python: a port nobody accepts connections on (pg_ctl start is retried if it is taken anyway).
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Starts the server. The postmaster outlives this script, so it must not inherit any descriptor other than
# stdin/stdout/stderr (pg_ctl points those at /dev/null and the log file): an inherited pipe, such as the caller's
# $(...) capturing our stdout, would otherwise stay open and make the caller wait forever.
launch_server() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [[ "$fd" =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/postgres.log" -w -t 30 start </dev/null >&2
  )
}

start_cluster() {
  find_bindir
  if [ -z "$bindir" ]; then
    install_postgres || die "could not install the postgresql package"
    find_bindir
    [ -n "$bindir" ] || die "initdb not found under /usr/lib/postgresql/*/bin even after installing postgresql"
  fi
  log "using $bindir"

  local socket_path="$dir/.s.PGSQL.65535"
  [ ${#socket_path} -lt 108 ] || die "'$dir' is too long for the server's unix socket path (max 91 characters)"

  if [ -e "$dir" ]; then
    log "$dir exists, stopping and wiping it first"
    stop_cluster
  fi

  mkdir -p -- "$dir" || die "could not create $dir"
  chmod 700 "$dir" || die "could not chmod $dir"
  if [ "$is_root" -eq 1 ]; then
    ensure_postgres_user || die "could not create the postgres system user"
    chown postgres:postgres "$dir" || die "could not chown $dir to postgres"
    # The postgres user must be able to reach $dir: make every parent traversable, top down (adds only the x bit).
    local p="" part
    local -a parts
    IFS=/ read -r -a parts <<< "${dir#/}"
    unset 'parts[${#parts[@]}-1]'
    for part in "${parts[@]}"; do
      p="$p/$part"
      if ! runuser -u postgres -- test -x "$p"; then
        log "making $p traversable (chmod a+x) for the postgres user"
        chmod a+x "$p" || die "could not make $p traversable for the postgres user"
      fi
    done
    runuser -u postgres -- test -w "$dir" || die "the postgres user cannot write to $dir"
  fi

  log "initdb in $dir"
  as_owner "$bindir/initdb" -D "$dir" -U postgres -E UTF8 --locale=C --auth=trust --no-sync --no-instructions >&2 \
    || die "initdb failed in $dir"

  # Trust on the unix socket (inside $dir, for this script); passwords over TCP (loopback only), as a real server asks,
  # so the tests can see what a wrong password does.
  cat > "$dir/pg_hba.conf" <<'EOF'
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     trust
host    all             all             127.0.0.1/32            scram-sha-256
EOF
  [ "$is_root" -eq 0 ] || chown postgres:postgres "$dir/pg_hba.conf"

  local sock_dir=${dir//\'/\'\'}
  local port="" attempt started=0
  for attempt in 1 2 3 4 5; do
    port=$(pick_port) || die "could not find a free TCP port"
    cat > "$dir/postgresql.auto.conf" <<EOF
# Written by scripts/postgres.sh: throwaway test cluster, tuned for speed, not durability.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock_dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
    [ "$is_root" -eq 0 ] || chown postgres:postgres "$dir/postgresql.auto.conf"
    rm -f "$dir/postgres.log"
    log "starting on 127.0.0.1:$port (attempt $attempt)"
    if launch_server; then
      started=1
      break
    fi
    if grep -qiE 'could not (bind|create listen)|address already in use' "$dir/postgres.log" 2>/dev/null; then
      log "port $port was taken, retrying with another one"
      continue
    fi
    break
  done
  if [ "$started" -ne 1 ]; then
    echo "---- $dir/postgres.log ----" >&2
    tail -n 40 "$dir/postgres.log" >&2 2>/dev/null || true
    die "PostgreSQL failed to start in $dir"
  fi

  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >&2 <<'EOF' \
    || die "could not create the dashboard role and database"
CREATE ROLE dashboard WITH LOGIN SUPERUSER CREATEDB PASSWORD 'dashboard';
CREATE DATABASE dashboard OWNER dashboard;
EOF

  echo "Host=127.0.0.1;Port=$port;Username=dashboard;Password=dashboard;Database=dashboard" >&3
}

case "$action" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
