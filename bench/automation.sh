#!/usr/bin/env bash
# Automation benchmark, interleaved rounds in one run (medians):
#  - ingestion of a receipt stream with 30% duplicates and 20% late receipts:
#    (a) a bare INSERT ... ON CONFLICT DO NOTHING of the stream into an event
#    table; (b) the receipts without statusflow, as a user would write them:
#    a PL/pgSQL function called per receipt that stores it ON CONFLICT DO
#    NOTHING and, when it is new and ranks higher, moves the status and
#    writes a history row (bench/setup_automation.sql); (c) ingest() one
#    receipt per call; (d) ingest_batch() over the whole stream, and in
#    batches of 1000 (the size of a webhook call), from the arrays a driver
#    would send;
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

# seconds taken by one SQL script run in its own transaction, and the CPU
# seconds its backend spent (from /proc: the server is local), the figure the
# other processes of a shared machine disturb least: "wall cpu"
timed() {
	psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | awk -v hz="$(getconf CLK_TCK)" \
		'/^cpu / {c[++n] = $2} /^Time:/ {t = $2} END {printf "%.3f %.3f\n", t / 1000, (c[2] - c[1]) / hz}'
SELECT pg_backend_pid() AS backend \gset
\setenv SF_BACKEND :backend
\! awk '{print "cpu", \$14 + \$15}' /proc/\$SF_BACKEND/stat
\timing on
\o /dev/null
$1;
\o
\timing off
\! awk '{print "cpu", \$14 + \$15}' /proc/\$SF_BACKEND/stat
SQL
}

# every message starts with the history row of its creation, as in real use
reset_ingestion="TRUNCATE bench_events, bench_plain_events, bench_plain_history;
UPDATE bench_plain_messages SET status = 'queued';
INSERT INTO bench_plain_history (id, to_status) SELECT id, 'queued' FROM bench_plain_messages;"
for t in bench_messages bench_messages_all bench_messages_1000; do
	reset_ingestion+="
ALTER TABLE ${t}_status_history DISABLE TRIGGER statusflow_append_only;
TRUNCATE ${t}_status_history;
ALTER TABLE ${t}_status_history ENABLE TRIGGER statusflow_append_only;
INSERT INTO ${t}_status_history (id, to_status) SELECT id, 'queued' FROM $t;
ALTER TABLE $t DISABLE TRIGGER USER;
UPDATE $t SET status = 'queued';
ALTER TABLE $t ENABLE TRIGGER USER;"
done
reset_timers="
ALTER TABLE bench_jobs_bound DISABLE TRIGGER USER;
ALTER TABLE bench_jobs_tick DISABLE TRIGGER USER;
UPDATE bench_jobs_plain SET status = 'waiting' WHERE status = 'due';
UPDATE bench_jobs_bound SET status = 'waiting' WHERE status = 'due';
UPDATE bench_jobs_tick SET status = 'waiting' WHERE status = 'due';
ALTER TABLE bench_jobs_bound ENABLE TRIGGER USER;
ALTER TABLE bench_jobs_tick ENABLE TRIGGER USER;"

declare -A results
# record name "wall cpu": name keeps the wall times, name_cpu the CPU times
record() {
	set -- "$1" $2
	results[$1]+="$2 "
	results[${1}_cpu]+="$3 "
}
for round in $(seq 1 "$ROUNDS"); do
	sf_log "round $round of $ROUNDS"
	psql -X -q -c "$reset_ingestion" -c "VACUUM ANALYZE bench_events, bench_plain_events,
		bench_plain_history, bench_plain_messages, bench_messages, bench_messages_status_history,
		bench_messages_all, bench_messages_all_status_history, bench_messages_1000,
		bench_messages_1000_status_history" >/dev/null
	record plain_insert "$(timed "INSERT INTO bench_events (event_id, message, what)
		SELECT event_id, message, what FROM bench_stream ORDER BY n ON CONFLICT DO NOTHING")"
	record plain_sql "$(timed "SELECT count(*) FROM (SELECT bench_plain_ingest(message, what, event_id)
		FROM bench_stream ORDER BY n) s")"
	record ingest "$(timed "SELECT count(*) FROM (SELECT statusflow.ingest('bench_messages', message, what,
		event_id => event_id) FROM bench_stream ORDER BY n) s")"
	record batch_all "$(timed "SELECT count(*) FROM bench_batches b, LATERAL statusflow.ingest_batch(
		'bench_messages_all', b.messages, b.whats, event_ids => b.event_ids) WHERE b.size = 0")"
	record batch_1000 "$(timed "SELECT count(*) FROM (SELECT * FROM bench_batches WHERE size = 1000
		ORDER BY batch) b, LATERAL statusflow.ingest_batch('bench_messages_1000', b.messages,
		b.whats, event_ids => b.event_ids)")"
	psql -X -q -c "$reset_timers" -c "VACUUM bench_jobs_plain, bench_jobs_bound, bench_jobs_tick" >/dev/null
	record update_plain "$(timed "UPDATE bench_jobs_plain SET status = 'due'
		WHERE status = 'waiting' AND wake_at <= now()")"
	record update_bound "$(timed "UPDATE bench_jobs_bound SET status = 'due'
		WHERE status = 'waiting' AND wake_at <= now()")"
	record tick "$(timed "SELECT count(*) FROM statusflow.tick($ENTITIES)")"
done

m() { echo "${results[$1]}" | tr ' ' '\n' | grep -v '^$' | sf_median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
receipts=$((MESSAGES * 10))
due=$((ENTITIES / 100))
# what the last round left in each history: the same for ingest() and the batches
outcomes() {
	psql -X -At -c "SELECT string_agg(o || ' ' || c, ', ' ORDER BY o) FROM (
	SELECT CASE WHEN applied THEN 'applied' ELSE 'kept as not applied' END AS o, count(*) AS c
	FROM ${1}_status_history WHERE from_status IS NOT NULL GROUP BY 1) x"
}
pi=$(m plain_insert); ps=$(m plain_sql); ig=$(m ingest); ba=$(m batch_all); bk=$(m batch_1000)
pic=$(m plain_insert_cpu); psc=$(m plain_sql_cpu); igc=$(m ingest_cpu); bac=$(m batch_all_cpu)
bkc=$(m batch_1000_cpu)
up=$(m update_plain); ub=$(m update_bound); tk=$(m tick)
rate() { awk -v n=$receipts -v t="$1" 'BEGIN {printf "%9.0f", n / t}'; }
cat <<REPORT

statusflow automation benchmark, $ROUNDS interleaved rounds (medians)
Ingestion of $receipts receipts ($MESSAGES messages; 50% new, 30% duplicates, 20% late)
  (a) INSERT ... ON CONFLICT DO NOTHING       $(printf '%8.3f' "$pi") s  $(rate "$pi") receipts/s
  (b) PL/pgSQL per receipt, no statusflow    $(printf '%8.3f' "$ps") s  $(rate "$ps") receipts/s
  (c) statusflow.ingest() per receipt        $(printf '%8.3f' "$ig") s  $(rate "$ig") receipts/s   $(ratio "$ig" "$ps")x (b), $(ratio "$ig" "$pi")x (a)   (target: <= 1.5x (b))
  (d) statusflow.ingest_batch(), one call    $(printf '%8.3f' "$ba") s  $(rate "$ba") receipts/s   $(ratio "$ba" "$pi")x (a)   (target: <= 2x (a))
      statusflow.ingest_batch(), 1000 a call $(printf '%8.3f' "$bk") s  $(rate "$bk") receipts/s   $(ratio "$bk" "$pi")x (a)
  the same in CPU seconds of the backend: (a) $pic, (b) $psc, (c) $igc ($(ratio "$igc" "$psc")x (b)),
      (d) $bac ($(ratio "$bac" "$pic")x (a)), by 1000 $bkc ($(ratio "$bkc" "$pic")x (a))
  history rows of the last round: ingest() $(outcomes bench_messages); ingest_batch() $(outcomes bench_messages_all); by 1000 $(outcomes bench_messages_1000)
tick() over $ENTITIES rows, $due due
  UPDATE of the due rows, table without statusflow  $(printf '%8.3f' "$up") s
  UPDATE of the due rows, bound table                $(printf '%8.3f' "$ub") s
  statusflow.tick()                                  $(printf '%8.3f' "$tk") s   $(ratio "$tk" "$up")x the plain UPDATE, $(ratio "$tk" "$ub")x the bound UPDATE
REPORT
