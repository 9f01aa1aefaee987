#!/usr/bin/env bash
# Automation benchmark, interleaved rounds in one run (medians):
#  - ingestion of a receipt stream with 30% duplicates and 20% late receipts,
#    against a plain INSERT ... ON CONFLICT DO NOTHING of the same stream;
#  - tick() over ENTITIES rows with 1% due, against a plain indexed UPDATE
#    of the same rows, on a table without statusflow and on a bound one.
#
#   bash bench/automation.sh [--no-build]
# Environment: MESSAGES (10000: 100,000 receipts), ENTITIES (1000000), ROUNDS (5).
set -euo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"

MESSAGES=${MESSAGES:-10000}
ENTITIES=${ENTITIES:-1000000}
ROUNDS=${ROUNDS:-5}
BENCH="$SF_ROOT/bench"

sf_install_deps
[ "${1:-}" = "--no-build" ] || sf_build
trap sf_stop_cluster EXIT
sf_start_cluster -c shared_buffers=512MB -c max_wal_size=8GB -c synchronous_commit=off \
	-c checkpoint_timeout=30min -c autovacuum=off
"$SF_PGBIN/createdb" bench
export PGDATABASE=bench
sf_log "loading $MESSAGES messages and $ENTITIES timer rows"
psql -X -q -v messages="$MESSAGES" -v entities="$ENTITIES" -f "$BENCH/setup_automation.sql" >/dev/null

# seconds taken by one SQL script run in its own transaction
timed() {
	psql -X -q -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" | awk '/^Time:/ {t = $2} END {printf "%.3f\n", t / 1000}'
}
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# every message starts with the history row of its creation, as in real use
reset_ingestion="
ALTER TABLE bench_messages_status_history DISABLE TRIGGER statusflow_append_only;
TRUNCATE bench_messages_status_history, bench_events;
ALTER TABLE bench_messages_status_history ENABLE TRIGGER statusflow_append_only;
INSERT INTO bench_messages_status_history (id, to_status) SELECT id, 'queued' FROM bench_messages;
ALTER TABLE bench_messages DISABLE TRIGGER USER;
UPDATE bench_messages SET status = 'queued';
ALTER TABLE bench_messages ENABLE TRIGGER USER;"
reset_timers="
ALTER TABLE bench_jobs_bound DISABLE TRIGGER USER;
ALTER TABLE bench_jobs_tick DISABLE TRIGGER USER;
UPDATE bench_jobs_plain SET status = 'waiting' WHERE status = 'due';
UPDATE bench_jobs_bound SET status = 'waiting' WHERE status = 'due';
UPDATE bench_jobs_tick SET status = 'waiting' WHERE status = 'due';
ALTER TABLE bench_jobs_bound ENABLE TRIGGER USER;
ALTER TABLE bench_jobs_tick ENABLE TRIGGER USER;"

declare -A results
record() { results[$1]+="$2 "; }
for round in $(seq 1 "$ROUNDS"); do
	sf_log "round $round of $ROUNDS"
	psql -X -q -c "$reset_ingestion" -c "VACUUM ANALYZE bench_messages, bench_events, bench_messages_status_history" >/dev/null
	record plain_insert "$(timed "INSERT INTO bench_events (event_id, message, what)
		SELECT event_id, message, what FROM bench_stream ORDER BY n ON CONFLICT DO NOTHING")"
	record ingest "$(timed "SELECT count(*) FROM (SELECT statusflow.ingest('bench_messages', message, what,
		event_id => event_id) FROM bench_stream ORDER BY n) s")"
	psql -X -q -c "$reset_timers" -c "VACUUM bench_jobs_plain, bench_jobs_bound, bench_jobs_tick" >/dev/null
	record update_plain "$(timed "UPDATE bench_jobs_plain SET status = 'due'
		WHERE status = 'waiting' AND wake_at <= now()")"
	record update_bound "$(timed "UPDATE bench_jobs_bound SET status = 'due'
		WHERE status = 'waiting' AND wake_at <= now()")"
	record tick "$(timed "SELECT count(*) FROM statusflow.tick($ENTITIES)")"
done

m() { echo "${results[$1]}" | tr ' ' '\n' | grep -v '^$' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
receipts=$((MESSAGES * 10))
due=$((ENTITIES / 100))
outcomes=$(psql -X -At -c "SELECT string_agg(o || ' ' || c, ', ' ORDER BY o) FROM (
	SELECT CASE WHEN applied THEN 'applied' ELSE 'kept as not applied' END AS o, count(*) AS c
	FROM bench_messages_status_history WHERE from_status IS NOT NULL GROUP BY 1) x")
pi=$(m plain_insert); ig=$(m ingest)
up=$(m update_plain); ub=$(m update_bound); tk=$(m tick)
cat <<REPORT

statusflow automation benchmark, $ROUNDS interleaved rounds (medians)
Ingestion of $receipts receipts ($MESSAGES messages; 50% new, 30% duplicates, 20% late)
  INSERT ... ON CONFLICT DO NOTHING  $(printf '%8.3f' "$pi") s  $(awk -v n=$receipts -v t="$pi" 'BEGIN {printf "%9.0f", n / t}') receipts/s
  statusflow.ingest()                $(printf '%8.3f' "$ig") s  $(awk -v n=$receipts -v t="$ig" 'BEGIN {printf "%9.0f", n / t}') receipts/s   $(ratio "$ig" "$pi")x the time
  history rows of the last round: $outcomes
tick() over $ENTITIES rows, $due due
  UPDATE of the due rows, table without statusflow  $(printf '%8.3f' "$up") s
  UPDATE of the due rows, bound table                $(printf '%8.3f' "$ub") s
  statusflow.tick()                                  $(printf '%8.3f' "$tk") s   $(ratio "$tk" "$up")x the plain UPDATE, $(ratio "$tk" "$ub")x the bound UPDATE
REPORT
