#!/usr/bin/env bash
# Status changes through a Citus coordinator, in interleaved rounds (medians):
#   statusflow  UPDATE of a bound, distributed table (the shard's trigger
#               checks the change and writes the history row on the worker);
#   floor       the same UPDATE on an unbound table and the INSERT of its
#               history row into a co-located history table, in one
#               transaction (BEGIN, UPDATE ... RETURNING, INSERT, COMMIT):
#               what an application does without statusflow;
#   update_only the UPDATE alone, without history (no guarantee at all).
# Each pgbench transaction moves one random row to its other status.
# Prints each variant's median transactions per second and the ratio.
#
#   bash bench/citus.sh
# Environment: SF_PREFIX (a PostgreSQL copy with Citus installed, see
# scripts/citus.sh), SF_CITUS_PORT, ROWS (10000), CLIENTS (2),
# TRANSACTIONS per client and round (2000), ROUNDS (5).
set -euo pipefail
source "$(dirname "$0")/../scripts/citus.sh"

ROWS=${ROWS:-10000}
CLIENTS=${CLIENTS:-2}
TRANSACTIONS=${TRANSACTIONS:-2000}
ROUNDS=${ROUNDS:-5}

sf_use_prefix
sf_citus_installed || { sf_log "Citus is not installed: bash scripts/citus.sh build"; exit 1; }
sf_build
trap sf_citus_stop EXIT
sf_citus_start -c synchronous_commit=off
work="$SF_CITUS_DIR"

psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" >/dev/null <<'SQL'
CREATE EXTENSION statusflow;
SELECT statusflow.create_workflow('bench_toggle', ARRAY['on', 'off'], ARRAY['on'], NULL);
SELECT statusflow.add_transition('bench_toggle', ARRAY['on'], 'off', 'switch_off');
SELECT statusflow.add_transition('bench_toggle', ARRAY['off'], 'on', 'switch_on');
CREATE TABLE bench_sf (account_id bigint, id bigint, status bench_toggle_status NOT NULL DEFAULT 'on',
                       PRIMARY KEY (account_id, id));
CREATE TABLE bench_plain (LIKE bench_sf INCLUDING ALL);
SELECT create_distributed_table('bench_sf', 'account_id');
SELECT create_distributed_table('bench_plain', 'account_id', colocate_with => 'bench_sf');
INSERT INTO bench_sf (account_id, id) SELECT i % 1000, i FROM generate_series(1, :rows) i;
INSERT INTO bench_plain SELECT * FROM bench_sf;
SELECT statusflow.attach('bench_sf', 'status', 'bench_toggle');
-- the floor's history: the same columns as statusflow's
CREATE TABLE bench_plain_history (LIKE bench_sf_status_history INCLUDING DEFAULTS INCLUDING IDENTITY,
                                  PRIMARY KEY (account_id, history_id));
SELECT create_distributed_table('bench_plain_history', 'account_id', colocate_with => 'bench_sf');
INSERT INTO bench_plain_history (account_id, id, to_status, event)
SELECT account_id, id, status, 'attach' FROM bench_plain;
VACUUM ANALYZE;
SQL

cat >"$work/statusflow.pgbench" <<SQL
\\set r random(1, $ROWS)
UPDATE bench_sf SET status = CASE WHEN status = 'on'::bench_toggle_status THEN 'off'::bench_toggle_status ELSE 'on'::bench_toggle_status END
WHERE account_id = :r % 1000 AND id = :r;
SQL
cat >"$work/floor.pgbench" <<SQL
\\set r random(1, $ROWS)
BEGIN;
UPDATE bench_plain SET status = CASE WHEN status = 'on'::bench_toggle_status THEN 'off'::bench_toggle_status ELSE 'on'::bench_toggle_status END
WHERE account_id = :r % 1000 AND id = :r RETURNING (status = 'on'::bench_toggle_status)::int AS is_on \\gset
INSERT INTO bench_plain_history (account_id, id, from_status, to_status)
VALUES (:r % 1000, :r, CASE :is_on WHEN 1 THEN 'off' ELSE 'on' END::bench_toggle_status,
        CASE :is_on WHEN 1 THEN 'on' ELSE 'off' END::bench_toggle_status);
COMMIT;
SQL
cat >"$work/update_only.pgbench" <<SQL
\\set r random(1, $ROWS)
UPDATE bench_plain SET status = CASE WHEN status = 'on'::bench_toggle_status THEN 'off'::bench_toggle_status ELSE 'on'::bench_toggle_status END
WHERE account_id = :r % 1000 AND id = :r;
SQL

# transactions per second of one pgbench run of a script
tps() {
	"$SF_PGBIN/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" -t "$TRANSACTIONS" -f "$work/$1.pgbench" 2>&1 |
		awk '/^tps = / {print $3}'
}

declare -A results
for round in $(seq 1 "$ROUNDS"); do
	sf_log "round $round of $ROUNDS"
	for variant in update_only floor statusflow; do
		t=$(tps "$variant" || true)
		[ -n "$t" ] || { sf_log "pgbench failed for $variant"; "$SF_PGBIN/pgbench" -n -t 1 -f "$work/$variant.pgbench" || true; exit 1; }
		results[$variant]+="$t "
	done
done

# every change of the bound table is in its history, checked on the workers
checked=$(psql -X -At -c "SELECT (SELECT count(*) FROM bench_sf_status_history)
	= (SELECT count(*) FROM bench_plain_history)")
update_only=$(echo ${results[update_only]} | tr ' ' '\n' | sf_median)
floor=$(echo ${results[floor]} | tr ' ' '\n' | sf_median)
sf=$(echo ${results[statusflow]} | tr ' ' '\n' | sf_median)
echo "Citus, $CLIENTS clients through the coordinator, $ROWS rows, $ROUNDS rounds of $TRANSACTIONS transactions per client"
printf '%-12s %10s tps (rounds: %s)\n' update_only "$update_only" "${results[update_only]}"
printf '%-12s %10s tps (rounds: %s)\n' floor "$floor" "${results[floor]}"
printf '%-12s %10s tps (rounds: %s)\n' statusflow "$sf" "${results[statusflow]}"
awk -v a="$sf" -v b="$floor" -v c="$update_only" 'BEGIN {
	printf "statusflow / floor: %.2f of the floor'"'"'s throughput\n", a / b
	printf "statusflow / update_only: %.2f of the bare UPDATE'"'"'s throughput\n", a / c }'
echo "history rows equal in both tables: $checked"
