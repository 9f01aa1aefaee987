# Sourced by scripts/test.sh with a server running: the restores a DBA does
# in two steps, the schema first and the data after, in plain SQL (pg_dump
# --schema-only, then --data-only) and from an archive (pg_restore
# --schema-only, then --data-only).  With --disable-triggers both give back
# the catalog, the rows and the history, and enforcement goes on; without it
# the load is refused with a message saying so, and no bound table is half
# loaded.  Prints TAP lines.
dump_dir="$SF_ROOT/test/dump"
dump_tmp=$(mktemp -d "$SF_TMP/data_only.XXXXXX")

# the source: test/dump/source.sql, and a bound table in a schema whose
# name sorts after statusflow's (pg_dump loads data in schema name order)
"$SF_PGBIN/createdb" statusflow_two_step
psql -X -q -d statusflow_two_step -f "$dump_dir/source.sql" >/dev/null
psql -X -q -d statusflow_two_step >/dev/null <<'EOF'
\set ON_ERROR_STOP 1
CREATE SCHEMA zz_late;
SELECT statusflow.create_workflow('late_flow', ARRAY['new', 'done'], ARRAY['new'],
								  type_name => 'zz_late.late_status');
SELECT statusflow.add_transition('late_flow', ARRAY['new'], 'done', event => 'finish');
CREATE TABLE zz_late.jobs (id int PRIMARY KEY, status zz_late.late_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('zz_late.jobs', 'status', 'late_flow');
INSERT INTO zz_late.jobs SELECT generate_series(1, 5);
SELECT statusflow.fire_many('zz_late.jobs', ARRAY[2, 4], 'finish');
EOF
"$SF_PGBIN/pg_dump" -d statusflow_two_step --schema-only -f "$dump_tmp/schema.sql"
"$SF_PGBIN/pg_dump" -d statusflow_two_step --data-only --disable-triggers -f "$dump_tmp/data.sql"
"$SF_PGBIN/pg_dump" -d statusflow_two_step -Fc -f "$dump_tmp/all.custom"

# what must come back: the late table's rows and history
late_state() {
	psql -X -A -t -d "$1" -c "
		SELECT (SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM zz_late.jobs)
			|| ' / ' || (SELECT string_agg(id || ':' || to_status || ':' || history_id, ','
										   ORDER BY history_id)
						 FROM zz_late.jobs_status_history)"
}
expected=$(late_state statusflow_two_step)

# the restored database db: everything is back and still enforced
check_restored() {
	local db=$1 how=$2 ok=1
	psql -X -q -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null
	pg_prove -d "$db" "$dump_dir/restored.sql" || ok=0
	if [ "$(late_state "$db")" != "$expected" ]; then
		echo "# $how: the late table has $(late_state "$db"), expected $expected"
		ok=0
	fi
	if psql -X -q -d "$db" -c "UPDATE zz_late.jobs SET status = 'new' WHERE id = 2" 2>/dev/null; then
		echo "# $how: a refused change went through"
		ok=0
	fi
	psql -X -q -d "$db" -c "SELECT statusflow.fire('zz_late.jobs', 1, 'finish')" >/dev/null || ok=0
	if [ "$(psql -X -A -t -d "$db" -c "SELECT count(*) FROM zz_late.jobs_status_history WHERE id = 1")" != 2 ]; then
		echo "# $how: the change after the restore is not in the history"
		ok=0
	fi
	if [ $ok = 1 ]; then
		echo "ok - $how: catalog, rows and history restored, enforcement on"
	else
		echo "not ok - $how"
	fi
}

"$SF_PGBIN/createdb" statusflow_two_step_sql
psql -X -q -d statusflow_two_step_sql -f "$dump_tmp/schema.sql" >/dev/null
psql -X -q -d statusflow_two_step_sql -f "$dump_tmp/data.sql" >/dev/null
check_restored statusflow_two_step_sql "pg_dump --schema-only, then --data-only --disable-triggers"

"$SF_PGBIN/createdb" statusflow_two_step_archive
"$SF_PGBIN/pg_restore" -d statusflow_two_step_archive --schema-only "$dump_tmp/all.custom"
"$SF_PGBIN/pg_restore" -d statusflow_two_step_archive --data-only --disable-triggers \
	"$dump_tmp/all.custom"
check_restored statusflow_two_step_archive "pg_restore --schema-only, then --data-only --disable-triggers"

# without --disable-triggers: refused, saying what to do, nothing bound loaded
"$SF_PGBIN/createdb" statusflow_two_step_refused
"$SF_PGBIN/pg_restore" -d statusflow_two_step_refused --schema-only "$dump_tmp/all.custom"
"$SF_PGBIN/pg_restore" -d statusflow_two_step_refused --data-only "$dump_tmp/all.custom" \
	>"$dump_tmp/refused.log" 2>&1
refused_status=$?
hints=$(grep -c 'HINT:  Restore data-only dumps with --disable-triggers' "$dump_tmp/refused.log")
loaded=$(psql -X -A -t -d statusflow_two_step_refused \
	-c "SELECT (SELECT count(*) FROM rr) + (SELECT count(*) FROM zz_late.jobs)")
if [ "$refused_status" -ne 0 ] && [ "$hints" -ge 2 ] && [ "$loaded" = 0 ]; then
	echo "ok - pg_restore --data-only without --disable-triggers is refused ($hints errors say to use it), no bound row loaded"
else
	cat "$dump_tmp/refused.log"
	echo "not ok - pg_restore --data-only without --disable-triggers: status $refused_status, $hints hints, $loaded bound rows loaded"
fi
rm -rf "$dump_tmp"
