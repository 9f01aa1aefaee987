#!/usr/bin/env bash
# Run every statusflow test on a throwaway server:
#   pg_regress (sql/ + expected/), isolation (specs/), pgTAP (test/, pg_prove),
#   a dump and restore (and of a dump from another version, SF_DUMP_FROM),
#   the diagram sources in docs/diagrams, the upgrade
#   from 1.0, statusflow on a Citus cluster (test/citus/run.sh: when Citus is
#   installed or CITUS_SRC is given; it says so when skipped), a fuzz of
#   every function a non-superuser may execute, a crash soak.
# Installs missing Debian packages when run as root, builds and installs the
# extension, and ends with one line "N passed, N failed" (test files).
set -uo pipefail
source "$(dirname "$0")/pgenv.sh"
cd "$SF_ROOT"

# a step without which nothing can run counts as one failed test
sf_fatal() {
	sf_log "$1"
	echo "0 passed, 1 failed"
	exit 1
}
sf_install_deps || sf_fatal "cannot install PostgreSQL $SF_PG_VERSION"
sf_build || sf_fatal "the build failed"
trap sf_stop_cluster EXIT
sf_start_cluster -c fsync=off || sf_fatal "the server did not start"

passed=0
failed=0

# pg_regress and isolation suites, through PGXS (make installcheck)
sf_log "pg_regress and isolation suites"
rm -rf results output_iso regression.diffs regression.out
make -s PG_CONFIG="$PG_CONFIG" installcheck ISOLATION= >installcheck.log 2>&1
make -s PG_CONFIG="$PG_CONFIG" installcheck REGRESS= >>installcheck.log 2>&1
grep -E '^(ok|not ok) |^test |^ +[a-z_]+ +\.\.\. ' installcheck.log | sed 's/^/  /'
for count in $(grep -oE 'All [0-9]+ tests passed' installcheck.log | grep -oE '[0-9]+'); do
	passed=$((passed + count))
done
while read -r bad total; do
	failed=$((failed + bad))
	passed=$((passed + total - bad))
done < <(grep -oE '[0-9]+ of [0-9]+ tests failed' installcheck.log | awk '{print $1, $3}')
if ! grep -qE 'tests passed|tests failed' installcheck.log; then
	cat installcheck.log
	failed=$((failed + 1))
fi
for diffs in regression.diffs output_iso/regression.diffs; do
	if [ -s "$diffs" ]; then
		sf_log "differences ($diffs):"
		head -n 200 "$diffs"
	fi
done
rm -f installcheck.log

# pgTAP suites
sf_log "pgTAP suites (pg_prove)"
"$SF_PGBIN/createdb" statusflow_tap
psql -X -q -d statusflow_tap -c 'CREATE EXTENSION pgtap' >/dev/null
pg_prove -d statusflow_tap test/*.sql >prove.log 2>&1
prove_status=$?
# pg_cron runs its jobs in the database named by cron.database_name
pg_prove -d postgres test/cron/*.sql >>prove.log 2>&1 || prove_status=1
# pg_dump and pg_restore keep workflows, bindings and history
"$SF_PGBIN/createdb" statusflow_dump_source
"$SF_PGBIN/createdb" statusflow_dump_restored
psql -X -q -d statusflow_dump_source -f test/dump/source.sql >/dev/null
"$SF_PGBIN/pg_dump" -Fc -d statusflow_dump_source -f dump.custom
"$SF_PGBIN/pg_restore" -d statusflow_dump_restored dump.custom
pg_prove -d statusflow_dump_restored test/dump/restored.sql >>prove.log 2>&1 || prove_status=1
files=$(ls test/*.sql test/cron/*.sql test/dump/restored.sql | wc -l)
# SF_DUMP_SAVE keeps that dump (scripts/matrix.sh restores it on other
# versions); SF_DUMP_FROM restores one taken by another version
if [ -n "${SF_DUMP_SAVE:-}" ]; then cp dump.custom "$SF_DUMP_SAVE"; fi
rm -f dump.custom
if [ -n "${SF_DUMP_FROM:-}" ]; then
	sf_log "restoring a dump taken by another version ($SF_DUMP_FROM)"
	"$SF_PGBIN/createdb" statusflow_dump_other
	"$SF_PGBIN/pg_restore" -d statusflow_dump_other "$SF_DUMP_FROM"
	pg_prove -d statusflow_dump_other test/dump/restored.sql >>prove.log 2>&1 || prove_status=1
	files=$((files + 1))
fi
cat prove.log

# the committed diagram sources are what the extension draws
sf_log "diagram sources (docs/diagrams.sh --check)"
if bash docs/diagrams.sh --check; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

# a check that ends with one "ok - " or "not ok - " line: run_check title command...
run_check() {
	sf_log "$1"
	shift
	"$@" >check.log 2>&1
	cat check.log
	if grep -q '^ok - ' check.log && ! grep -q '^not ok - ' check.log; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	rm -f check.log
}

run_check "restores in two steps, schema then data" source test/dump/data_only.sh
run_check "META.json against the PGXN Meta Spec" perl test/meta/validate.pl META.json
run_check "upgrade from 1.0 (ALTER EXTENSION UPDATE)" source test/upgrade/run.sh
# statusflow on Citus, on a three-node cluster of its own (test/citus/run.sh):
# when Citus is installed in this PostgreSQL, or CITUS_SRC says where to
# build it from; otherwise it prints why it is skipped, and counts for nothing
sf_log "Citus: a coordinator and two workers (test/citus/run.sh)"
bash test/citus/run.sh >check.log 2>&1
citus_status=$?
cat check.log
if grep -q '^skipped: ' check.log; then
	sf_log "Citus suite skipped: $(sed -n 's/^skipped: //p' check.log)"
elif [ "$citus_status" -eq 0 ] && grep -q '^ok - ' check.log && ! grep -q '^not ok - ' check.log; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
rm -f check.log
run_check "fuzz of every function a non-superuser may execute" bash test/fuzz/run.sh
# last: it crashes the server
run_check "concurrency soak with a crash" source test/soak/crash_soak.sh
bad_files=$(grep -cE '^test/.*(Failed|Dubious|No subtests run)' prove.log || true)
if [ "$prove_status" -ne 0 ] && [ "$bad_files" -eq 0 ]; then
	bad_files=1
fi
passed=$((passed + files - bad_files))
failed=$((failed + bad_files))
rm -f prove.log

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
