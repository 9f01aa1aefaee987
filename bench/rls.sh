#!/usr/bin/env bash
# What reports cost under row-level security: every report, run by a role
# that is not the table's owner, on two copies of the same data, one table
# without row-level security and one with it (a policy that lets every row
# through, so that both count the same entities).  Without it the reports'
# SQL is what it would be without the feature; with it the history is read
# joined to the visible rows of the table.
#
#   bash bench/rls.sh [--no-build]
#
# Environment: ENTITIES (100000 entities, 1,000,000 history rows), ROUNDS
# (3, medians).  Not run by CI; about 5 minutes on 2 cores.
set -euo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"

ENTITIES=${ENTITIES:-100000}
ROUNDS=${ROUNDS:-3}
BENCH="$SF_ROOT/bench"

sf_install_deps
[ "${1:-}" = "--no-build" ] || sf_build
trap sf_stop_cluster EXIT
sf_start_cluster -c shared_buffers=1GB -c work_mem=64MB -c max_wal_size=8GB \
	-c checkpoint_timeout=30min -c synchronous_commit=off -c fsync=off \
	-c autovacuum=off -c max_parallel_workers_per_gather=2
"$SF_PGBIN/createdb" bench
export PGDATABASE=bench
psql -X -q -c 'CREATE EXTENSION statusflow'

for tbl in bench_plain bench_rls; do
	sf_log "generating $tbl: $ENTITIES entities, $((ENTITIES * 10)) history rows"
	psql -X -q -v entities="$ENTITIES" -v tbl="$tbl" -v tbl_history="${tbl}_history" \
		-f "$BENCH/gen_reports.sql" >/dev/null
done
psql -X -q <<'SQL'
ALTER TABLE bench_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY every_row ON bench_rls FOR SELECT USING (true);
DROP ROLE IF EXISTS bench_reader;
CREATE ROLE bench_reader;
GRANT SELECT ON bench_plain, bench_plain_history, bench_rls, bench_rls_history TO bench_reader;
ANALYZE;
SQL

declare -A results
for tbl in bench_plain bench_rls; do
	sf_log "measuring $tbl as a reader, $ROUNDS rounds"
	results[$tbl]=$(PGOPTIONS='-c role=bench_reader' \
		psql -X -q -v tbl="$tbl" -v rounds="$ROUNDS" -f "$BENCH/reports_measure.sql")
done

echo
echo "statusflow reports under row-level security: $ENTITIES entities, $((ENTITIES * 10)) history rows,"
echo "run by a role that is not the owner; medians of $ROUNDS rounds"
printf '%-30s %14s %14s %8s\n' report "no RLS ms" "RLS ms" ratio
join -t '|' -j 1 -o '1.1,1.2,2.2' \
	<(echo "${results[bench_plain]}" | awk -F'|' '{printf "%02d %s|%s\n", NR, $1, $2}') \
	<(echo "${results[bench_rls]}" | awk -F'|' '{printf "%02d %s|%s\n", NR, $1, $2}') |
	awk -F'|' '{printf "%-30s %14.1f %14.1f %7.2fx\n", substr($1, 4), $2, $3, $3 / $2}'
