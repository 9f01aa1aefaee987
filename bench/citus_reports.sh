#!/usr/bin/env bash
# Reports through a Citus coordinator against the same reports on one node.
#
# On a local Citus cluster (a coordinator and two workers, scripts/citus.sh),
# one data set (bench/gen_reports.sql's: ENTITIES entities, about 10 history
# rows each) is loaded twice, into tables of the same shape (primary key
# (account_id, id)):
#   bench_citus  hash-distributed by account_id (32 shards on the workers),
#                bound by statusflow.attach(), so its history is distributed
#                and co-located with it;
#   bench_one    a plain bound table on the coordinator, with the same rows
#                and the same history rows in the same order.
# Each report then runs on both in interleaved rounds (a warm-up, then ROUNDS
# rounds; the order of the two tables alternates from round to round), every
# statement on its own from psql (autocommit, as an application sends it),
# timed by psql's \timing, its rows counted on the server (SELECT count(q.*)
# FROM (report) q), next to SELECT count(*) over each history.  Prints, per
# report: median ms on one node and through Citus (each with its ratio to
# that side's count(*)), Citus / one node, the queries Citus sent to the
# workers for it (counted once, with citus.log_remote_commands), the rows it
# returned on each side, and the kind of work it is on Citus.
#
#   bash bench/citus_reports.sh [--no-build]
#
# Environment: SF_PREFIX (a PostgreSQL copy with Citus installed, see
# scripts/citus.sh), SF_CITUS_PORT, ENTITIES (100000: about 1,000,000
# history rows), ROUNDS (5, medians).  Not run by CI; about 10 minutes on 2
# cores at the default size.
set -euo pipefail
source "$(dirname "$0")/../scripts/citus.sh"

ENTITIES=${ENTITIES:-100000}
ROUNDS=${ROUNDS:-5}
build=1
for arg in "$@"; do
	case "$arg" in
		--no-build) build=0 ;;
		*) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
	esac
done

sf_use_prefix
sf_citus_installed || { sf_log "Citus is not installed: bash scripts/citus.sh build"; exit 1; }
[ "$build" = 0 ] || sf_build
trap sf_citus_stop EXIT
# the same settings on the three nodes: one node's reports run on the
# coordinator, Citus's on the workers
sf_citus_start -c shared_buffers=512MB -c work_mem=64MB -c max_wal_size=4GB \
	-c checkpoint_timeout=30min -c synchronous_commit=off -c fsync=off -c autovacuum=off
work="$SF_CITUS_DIR"

# the data: generated once by gen_reports.sql (bench_gen, primary key id),
# then copied into the two tables of the same shape, with the same history
sf_log "generating $ENTITIES entities, about $((ENTITIES * 10)) history rows"
start=$SECONDS
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION statusflow'
psql -X -q -v entities="$ENTITIES" -v tbl=bench_gen -v tbl_history=bench_gen_history \
	-f "$SF_ROOT/bench/gen_reports.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE bench_one (account_id integer, id bigint, phone text NOT NULL,
						status bench_outreach_status NOT NULL, PRIMARY KEY (account_id, id));
CREATE TABLE bench_citus (LIKE bench_one INCLUDING ALL);
SELECT create_distributed_table('bench_citus', 'account_id');
INSERT INTO bench_one SELECT account_id, id, phone, status FROM bench_gen;
INSERT INTO bench_citus SELECT * FROM bench_one;
SELECT statusflow.attach('bench_one', 'status', 'bench_outreach', backfill => false);
SELECT statusflow.attach('bench_citus', 'status', 'bench_outreach', backfill => false);
SET work_mem = '512MB';
INSERT INTO bench_one_status_history (account_id, id, from_status, to_status, event, actor,
									  occurred_at, recorded_at)
SELECT t.account_id, h.id, h.from_status, h.to_status, h.event, h.actor, h.occurred_at,
	   h.recorded_at
FROM bench_gen_history h JOIN bench_gen t USING (id)
ORDER BY h.history_id;
INSERT INTO bench_citus_status_history (account_id, id, from_status, to_status, event, actor,
										occurred_at, recorded_at)
SELECT account_id, id, from_status, to_status, event, actor, occurred_at, recorded_at
FROM bench_one_status_history
ORDER BY history_id;
RESET work_mem;
DROP TABLE bench_gen;
DROP TABLE bench_gen_history;
VACUUM ANALYZE bench_one;
VACUUM ANALYZE bench_one_status_history;
VACUUM ANALYZE bench_citus;
VACUUM ANALYZE bench_citus_status_history;
SQL
sf_log "generated and loaded in $((SECONDS - start)) s"

# the key the one-key reports ask about (entity 12345 at the default size)
key_id=$(((12345 - 1) % ENTITIES + 1))
key="ROW($((1 + key_id % 1000)), $key_id)"
next_id=$((key_id % ENTITIES + 1))
next_key="ROW($((1 + next_id % 1000)), $next_id)"

# name | kind on Citus | query, with %T for the table
queries=(
	"count(*) over the history|shards|SELECT count(*) FROM %T_status_history"
	"status_counts()|shards|SELECT * FROM statusflow.status_counts('%T')"
	"group_counts()|shards|SELECT * FROM statusflow.group_counts('%T')"
	"status_counts(until)|pulled|SELECT * FROM statusflow.status_counts('%T', until => '2024-07-01')"
	"funnel()|pulled|SELECT * FROM statusflow.funnel('%T')"
	"funnel_cohorts(week)|pulled|SELECT * FROM statusflow.funnel_cohorts('%T', period => 'week')"
	"time_in_status()|pulled|SELECT * FROM statusflow.time_in_status('%T')"
	"transition_matrix()|shards|SELECT * FROM statusflow.transition_matrix('%T')"
	"entry_series(day)|shards|SELECT * FROM statusflow.entry_series('%T', 'day', until => '2025-03-01')"
	"stale(no_sms_reply, 3 days)|joined|SELECT * FROM statusflow.stale('%T', 'no_sms_reply', '3 days')"
	"queue_position(key)|key+pulled|SELECT * FROM statusflow.queue_position('%T', $next_key)"
	"status_at(key)|key|SELECT statusflow.status_at('%T', $key, '2024-06-01')"
	"timeline(key)|key|SELECT * FROM statusflow.timeline('%T', $key)"
	"dashboard()|mixed|SELECT * FROM statusflow.dashboard('%T')"
)
tables=(bench_one bench_citus)

# the statement of query $1 on table $2
statement() {
	local q="${queries[$1]}"
	q="${q#*|}"
	q="${q#*|}"
	echo "SELECT count(q.*) FROM (${q//%T/$2}) q;"
}

# the queries Citus sends to the workers for each report, counted once
# (citus.log_remote_commands; transaction control left out)
declare -A shard_queries
for n in "${!queries[@]}"; do
	shard_queries[$n]=$({ statement "$n" bench_citus |
		PGOPTIONS='-c citus.log_remote_commands=on -c client_min_messages=log' \
			psql -X -q -v ON_ERROR_STOP=1 -o /dev/null 2>&1 >/dev/null; } |
		grep 'issuing ' | grep -vc 'issuing \(BEGIN\|COMMIT\|ROLLBACK\|PREPARE\|SELECT assign_distributed_transaction_id\|SET \)' || true)
done

# the timed script: a warm-up round (0), then ROUNDS rounds; each statement
# preceded by a marker line "@ round query table"
{
	echo '\timing on'
	for round in $(seq 0 "$ROUNDS"); do
		order=(0 1)
		[ $((round % 2)) = 1 ] || order=(1 0)
		for n in "${!queries[@]}"; do
			for t in "${order[@]}"; do
				echo "\\echo @ $round $n $t"
				statement "$n" "${tables[$t]}"
			done
		done
	done
} >"$work/reports.sql"
sf_log "measuring: a warm-up round, then $ROUNDS rounds"
psql -X -At -v ON_ERROR_STOP=1 -f "$work/reports.sql" >"$work/reports.out"

# per query and table: the median ms of the rounds after the warm-up, and
# the rows the report returned ("n t median rows")
medians=$(awk '
	/^@ / {round = $2; key = $3 " " $4; next}
	/^Time: / {if (round > 0) print key, $2; next}
	key != "" {rows[key] = $1}
	END {for (k in rows) print k, "rows", rows[k]}' "$work/reports.out" |
	sort -k1,1n -k2,2n -k3,3g |
	awk '
		function flush() { if (key != "") med[key] = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
		$3 == "rows" {rows[$1 " " $2] = $4; next}
		$1 " " $2 != key {flush(); key = $1 " " $2; n = 0}
		{v[++n] = $3}
		END {flush(); for (k in med) print k, med[k], rows[k]}' | sort -k1,1n -k2,2n)

history_rows() { psql -X -At -c "SELECT to_char(count(*), 'FM999,999,999') FROM $1_status_history"; }
shards=$(psql -X -At -c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'bench_citus'::regclass")
echo
echo "statusflow reports on one node and through Citus: medians of $ROUNDS rounds (interleaved), work_mem 64MB"
echo "one node: bench_one on the coordinator, $(history_rows bench_one) history rows;" \
	"Citus: bench_citus, $shards shards on 2 workers, $(history_rows bench_citus) history rows; $ENTITIES entities"
echo "ms (x count): median milliseconds (ratio to count(*) over that side's history);" \
	"shard queries: queries sent to the workers; rows: rows returned, one node / Citus"
printf '%-28s %18s %18s %8s %8s %13s  %s\n' report "one node ms" "Citus ms" Citus/1 "shard q." rows kind
echo "$medians" | awk -v names="$(printf '%s\n' "${queries[@]}" | cut -d'|' -f1,2)" \
	-v sq="$(for n in "${!queries[@]}"; do echo "${shard_queries[$n]}"; done)" '
	BEGIN {
		nq = split(names, lines, "\n")
		split(sq, shardq, "\n")
		for (i = 1; i <= nq; i++) { split(lines[i], f, "|"); name[i - 1] = f[1]; kind[i - 1] = f[2] }
		label["shards"] = "aggregated on the shards"
		label["joined"] = "joined on the shards, the matches returned"
		label["pulled"] = "rows pulled to the coordinator"
		label["key"] = "one key queried on every shard"
		label["key+pulled"] = "one key on every shard, then the status'"'"'s rows pulled"
		label["mixed"] = "counts and stale on the shards, funnel pulled"
	}
	{ ms[$1 " " $2] = $3; rows[$1 " " $2] = $4 }
	END {
		for (i = 0; i < nq; i++) {
			a = ms[i " 0"]; b = ms[i " 1"]
			printf "%-28s %18s %18s %7.2fx %8s %13s  %s\n", name[i],
				sprintf("%.1f (%.2f)", a, a / ms["0 0"]), sprintf("%.1f (%.2f)", b, b / ms["0 1"]),
				b / a, shardq[i + 1], rows[i " 0"] "/" rows[i " 1"], label[kind[i]]
		}
	}'
