#!/usr/bin/env bash
# Run the integration examples against a throwaway server: each
# examples/<stack>/ is a small runnable project (docs/integrations.md walks
# through them).  For each stack, a fresh database gets examples/schema.sql,
# then examples/<stack>/run.sh runs with PGHOST, PGPORT and PGDATABASE set
# (PGUSER=app, the application's role) and prints TAP lines.
#
#   bash examples/run.sh [STACK...]      (default: every examples/*/run.sh)
#
# As root it installs what the stacks need from Debian's packages
# (examples/<stack>/debian-packages, one name per line) and npm's registry
# (examples/<stack>/package.json).  Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"
cd "$SF_ROOT/examples"

stacks=("$@")
if [ ${#stacks[@]} -eq 0 ]; then
	for d in */run.sh; do stacks+=("${d%/run.sh}"); done
fi

fatal() {
	sf_log "$1"
	echo "0 passed, 1 failed"
	exit 1
}

# Debian packages of the stacks, installed when missing (as root)
packages=$(cat "${stacks[@]/%//debian-packages}" 2>/dev/null | grep -v '^#' | sort -u | tr '\n' ' ')
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+="$p "
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || fatal "missing packages; install: $missing"
	sf_log "installing $missing"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } \
		>"$SF_ROOT/examples/apt.log" 2>&1 || { cat "$SF_ROOT/examples/apt.log"; fatal "apt-get failed"; }
	rm -f "$SF_ROOT/examples/apt.log"
fi

sf_install_deps || fatal "cannot install PostgreSQL $SF_PG_VERSION"
if [ ! -f "$($PG_CONFIG --sharedir)/extension/statusflow.control" ]; then
	sf_build || fatal "the build failed"
fi
trap sf_stop_cluster EXIT
sf_start_cluster || fatal "the server did not start"
chmod 755 "$SF_TMP"

passed=0
failed=0
for stack in "${stacks[@]}"; do
	sf_log "example: $stack"
	db="example_$stack"
	"$SF_PGBIN/createdb" "$db"
	if ! psql -X -q -d "$db" -f schema.sql >"$SF_TMP/$stack.schema.log" 2>&1; then
		cat "$SF_TMP/$stack.schema.log"
		failed=$((failed + 1))
		continue
	fi
	(cd "$stack" && PGDATABASE="$db" PGUSER=app PGSUPERUSER=postgres bash run.sh) \
		>"$SF_TMP/$stack.log" 2>&1
	status=$?
	cat "$SF_TMP/$stack.log"
	ok=$(grep -c '^ok - ' "$SF_TMP/$stack.log")
	bad=$(grep -c '^not ok - ' "$SF_TMP/$stack.log")
	if [ "$status" -ne 0 ] || [ "$ok" -eq 0 ]; then
		bad=$((bad + 1))
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
