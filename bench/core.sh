#!/usr/bin/env bash
# Core benchmark: statusflow against the floor (no check, history written by
# the statement itself) and against the PL/pgSQL triggers a user would write.
#
#   bash bench/core.sh [--no-build]
#
# Environment: ENTITIES (100000), ROUNDS (5), RUN_SECONDS (10, per OLTP run),
# CLIENTS (4).  Variants run interleaved, round after round, on the same
# server; the figures are medians.
set -euo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"

ENTITIES=${ENTITIES:-100000}
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${RUN_SECONDS:-10}
CLIENTS=${CLIENTS:-4}
BENCH="$SF_ROOT/bench"
PGBENCH="$SF_PGBIN/pgbench"

sf_install_deps
[ "${1:-}" = "--no-build" ] || sf_build
trap sf_stop_cluster EXIT
sf_start_cluster -c shared_buffers=256MB -c max_wal_size=4GB -c synchronous_commit=off \
	-c checkpoint_timeout=30min -c autovacuum=off
createdb_cmd="$SF_PGBIN/createdb"
"$createdb_cmd" bench
export PGDATABASE=bench

sf_log "loading $ENTITIES entities into each variant"
psql -X -q -v entities="$ENTITIES" -f "$BENCH/setup_core.sql" >/dev/null

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# tps of one OLTP run of a script
oltp_run() {
	"$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" \
		-D entities="$ENTITIES" -f "$BENCH/$1.sql" 2>/dev/null |
		awk '/^tps/ {print $3; exit}'
}

# seconds of one bulk run of a script (one statement over every row)
bulk_run() {
	psql -X -q -c "VACUUM $2" -c "CHECKPOINT" >/dev/null
	"$PGBENCH" -n -t 1 -f "$BENCH/$1.sql" 2>/dev/null |
		awk '/^latency average/ {printf "%.3f\n", $4 / 1000; exit}'
}

declare -A results
record() { results[$1]+="$2 "; }

for round in $(seq 1 "$ROUNDS"); do
	sf_log "round $round of $ROUNDS"
	for v in floor statusflow plpgsql summarized; do
		record "oltp_$v" "$(oltp_run "oltp_$v")"
	done
	for v in plain statusflow guarded; do
		record "oltp_payload_$v" "$(oltp_run "oltp_payload_$v")"
	done
	record bulk_floor "$(bulk_run bulk_floor 'bench_floor, bench_floor_history')"
	record bulk_statusflow "$(bulk_run bulk_statusflow 'bench_sf, bench_sf_status_history')"
	record bulk_plpgsql "$(bulk_run bulk_plpgsql 'bench_plpgsql, bench_plpgsql_history')"
	record bulk_summarized "$(bulk_run bulk_summarized 'bench_summarized, bench_summarized_status_history')"
	record bulk_payload_plain "$(bulk_run bulk_payload_plain bench_plain)"
	record bulk_payload_statusflow "$(bulk_run bulk_payload_statusflow bench_sf)"
	record bulk_payload_guarded "$(bulk_run bulk_payload_guarded bench_guarded)"
done

m() { echo "${results[$1]}" | tr ' ' '\n' | grep -v '^$' | sf_median; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "NOT met"}'; }

of=$(m oltp_floor); os=$(m oltp_statusflow); op=$(m oltp_plpgsql)
bf=$(m bulk_floor); bs=$(m bulk_statusflow); bp=$(m bulk_plpgsql)
osum=$(m oltp_summarized); bsum=$(m bulk_summarized)
pp=$(m oltp_payload_plain); ps=$(m oltp_payload_statusflow); pg=$(m oltp_payload_guarded)
qp=$(m bulk_payload_plain); qs=$(m bulk_payload_statusflow); qg=$(m bulk_payload_guarded)

cat <<EOF

statusflow core benchmark: $ENTITIES entities, $ROUNDS interleaved rounds (medians)
OLTP: pgbench -M prepared, $CLIENTS clients, ${SECONDS_PER_RUN} s per run, one status UPDATE per transaction
  floor (UPDATE + history INSERT, no check)  $(printf '%8.0f' "$of") tps
  statusflow                                 $(printf '%8.0f' "$os") tps   $(ratio "$os" "$of")x floor, $(ratio "$os" "$op")x plpgsql
  PL/pgSQL triggers                          $(printf '%8.0f' "$op") tps   $(ratio "$op" "$of")x floor
Bulk: one UPDATE of all $ENTITIES rows
  floor                                      $(printf '%8.3f' "$bf") s
  statusflow                                 $(printf '%8.3f' "$bs") s     $(ratio "$bs" "$bf")x floor's time, $(ratio "$bp" "$bs")x faster than plpgsql
  PL/pgSQL triggers                          $(printf '%8.3f' "$bp") s     $(ratio "$bp" "$bf")x floor's time
Updates that leave the status alone (UPDATE ... SET payload = payload + 1)
  OLTP  plain table $(printf '%8.0f' "$pp") tps, statusflow table $(printf '%8.0f' "$ps") tps   $(ratio "$ps" "$pp")x
  bulk  plain table $(printf '%8.3f' "$qp") s,   statusflow table $(printf '%8.3f' "$qs") s     $(ratio "$qs" "$qp")x
  with a status condition on another column (the invariant trigger watches it, not payload):
  OLTP  $(printf '%8.0f' "$pg") tps   $(ratio "$pg" "$ps")x the statusflow table without one
  bulk  $(printf '%8.3f' "$qg") s     $(ratio "$qg" "$qs")x the statusflow table's time
A statusflow table keeping summaries of its history (enable_summaries: its history gains an index on txid)
  OLTP  $(printf '%8.0f' "$osum") tps   $(ratio "$osum" "$os")x the statusflow table without them
  bulk  $(printf '%8.3f' "$bsum") s     $(ratio "$bsum" "$bs")x the statusflow table's time

Targets
  OLTP statusflow >= 0.95x floor:    $(ratio "$os" "$of")  $(verdict "$(ratio "$os" "$of")" '>=' 0.95)
  OLTP statusflow >= 1.10x plpgsql:  $(ratio "$os" "$op")  $(verdict "$(ratio "$os" "$op")" '>=' 1.10)
  bulk statusflow <= 1.15x floor:    $(ratio "$bs" "$bf")  $(verdict "$(ratio "$bs" "$bf")" '<=' 1.15)
  bulk statusflow >= 1.5x plpgsql:   $(ratio "$bp" "$bs")  $(verdict "$(ratio "$bp" "$bs")" '>=' 1.5)
EOF
