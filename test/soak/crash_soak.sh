#!/usr/bin/env bash
# Concurrency soak with a crash: 4 pgbench clients fire transitions on 200
# rows; halfway the server is stopped in immediate mode (a crash), started
# again, and the history is checked: every entity's history is a chain of
# declared transitions ending at its current status, and every transaction
# pgbench saw commit is in it.  Sourced by scripts/test.sh with a running
# server (sf_start_cluster); prints "ok - ..." or "not ok - ..." lines.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$SF_PGBIN/createdb" statusflow_soak
export PGDATABASE=statusflow_soak
psql -X -q -f "$here/setup.sql" >/dev/null

logdir="$(mktemp -d)"
(cd "$logdir" && "$SF_PGBIN/pgbench" -n -c 4 -j 4 -T 12 -l -f "$here/transaction.sql" \
	>pgbench.out 2>&1) &
bench=$!
sleep 6
sf_log "crashing the server (immediate shutdown) under load"
kill -QUIT "$SF_PID"
wait "$bench"
for i in $(seq 1 100); do kill -0 "$SF_PID" 2>/dev/null || break; sleep 0.1; done
sf_restart_cluster

acked=$(cat "$logdir"/pgbench_log.* 2>/dev/null | wc -l)
result=$(psql -X -q -At -f "$here/check.sql")
rm -rf "$logdir"
echo "$result" | sed 's/^/  /'
changes=$(echo "$result" | awk '/^changes/ {print $2}')
if echo "$result" | grep -q "broken chains 0, undeclared steps 0, wrong last status 0, entities without history 0" &&
	echo "$result" | grep -q "duplicated history ids 0" && [ "$acked" -gt 0 ] &&
	[ "${changes:-0}" -ge "$acked" ]; then
	echo "ok - soak with a crash: $acked transactions acknowledged, $changes in the history, every chain intact"
else
	echo "not ok - soak with a crash: $acked transactions acknowledged, ${changes:-?} in the history"
fi
