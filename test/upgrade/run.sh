# Sourced by scripts/test.sh with a server running: ALTER EXTENSION statusflow
# UPDATE from 1.0 keeps everything (upgraded.sql, pgTAP) and leaves the
# database as a fresh install would (describe.sql of both, compared).  Prints
# TAP lines; the 1.0 install script is kept in this folder for it.
upgrade_dir="$SF_ROOT/test/upgrade"
cp "$upgrade_dir/statusflow--1.0.sql" "$("$PG_CONFIG" --sharedir)/extension/"
"$SF_PGBIN/createdb" statusflow_upgraded
"$SF_PGBIN/createdb" statusflow_fresh
psql -X -q -d statusflow_upgraded -c 'CREATE EXTENSION pgtap' \
	-c "CREATE EXTENSION statusflow VERSION '1.0'" >/dev/null
psql -X -q -d statusflow_upgraded -f "$upgrade_dir/before.sql" >/dev/null
psql -X -q -d statusflow_upgraded -c 'ALTER EXTENSION statusflow UPDATE'
psql -X -q -d statusflow_fresh -c 'CREATE EXTENSION statusflow'
pg_prove -d statusflow_upgraded "$upgrade_dir/upgraded.sql"
upgrade_status=$?
psql -X -q -d statusflow_upgraded -f "$upgrade_dir/describe.sql" >"$SF_TMP/upgraded.txt"
psql -X -q -d statusflow_fresh -f "$upgrade_dir/describe.sql" >"$SF_TMP/fresh.txt"
if [ "$upgrade_status" -eq 0 ] && [ -s "$SF_TMP/fresh.txt" ] &&
	diff -u "$SF_TMP/fresh.txt" "$SF_TMP/upgraded.txt"; then
	echo "ok - upgrade from 1.0: data kept, $(wc -l <"$SF_TMP/fresh.txt") definitions equal to a fresh 1.1"
else
	echo "not ok - upgrade from 1.0"
fi
