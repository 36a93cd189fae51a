#!/usr/bin/env bash
# Runs every test of the dashboard: installs what the tests need when it is missing (Debian's Chromium for the browser
# tests, docker-registry and htpasswd for the registry tests, skopeo, Docker Engine with containerd's ctr, and podman
# as pull clients, kubectl for kustomize builds, openssl to sign test images, PostgreSQL for the second provider), restores and builds the solution (warnings are errors), runs
# each test project and prints "N passed, N failed". Dashboard.Tests runs twice: on SQLite files, then on a throwaway
# PostgreSQL server (a cluster under a temporary directory on a loopback port, started and removed here). Exits
# non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
# docker.io depends on containerd, which has ctr; the tests start a dockerd of their own, never the system's.
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v podman >/dev/null 2>&1 || need+=(podman)
# The signature tests sign as cosign's docs show for external signers, with openssl (cosign is not packaged here).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${need[@]}"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=.test-results
rm -rf "$results"
mkdir -p "$results"

dotnet restore Dashboard.sln
dotnet build Dashboard.sln --no-restore -c Debug

status=0
# On SQLite every test but the ones about several instances on one PostgreSQL database (below).
dotnet test tests/Dashboard.Tests --no-build -c Debug --filter "Category!=PostgreSql" --logger "trx;LogFileName=Dashboard.Tests.trx" --results-directory "$results" || status=1
dotnet test tests/E2E --no-build -c Debug --logger "trx;LogFileName=E2E.trx" --results-directory "$results" || status=1

# Dashboard.Tests again on PostgreSQL, with the ones that need it (several app instances on one database); not the
# real-client tests (docker, ctr, podman), which test the registry endpoint and gain nothing from another database.
postgres_dir=$(mktemp -d /tmp/dashboard-postgres.XXXXXX)
trap 'scripts/postgres.sh stop "$postgres_dir/cluster" >/dev/null 2>&1 || true; rm -rf "$postgres_dir"' EXIT
DASHBOARD_TEST_POSTGRES=$(scripts/postgres.sh start "$postgres_dir/cluster")
export DASHBOARD_TEST_POSTGRES
dotnet test tests/Dashboard.Tests --no-build -c Debug --filter "Category!=Clients" --logger "trx;LogFileName=Dashboard.Tests.PostgreSql.trx" --results-directory "$results" || status=1
unset DASHBOARD_TEST_POSTGRES

passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  value() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done

if [ "$files" -ne 3 ]; then
  echo "Expected 3 test results (Dashboard.Tests on SQLite and on PostgreSQL, E2E), found $files." >&2
  status=1
fi
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
