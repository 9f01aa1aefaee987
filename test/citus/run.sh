#!/usr/bin/env bash
# statusflow on Citus: a coordinator and two workers start (scripts/citus.sh),
# statusflow's extension reaches the workers, then
#   - the pg_regress suite test/citus/sql (expected output in
#     test/citus/expected): attach on distributed tables, every write path
#     enforced on the workers, the API, guards, catalog changes reaching open
#     sessions, reports, plain tables next to distributed ones;
#   - a concurrency run: several pgbench clients fire events through the
#     coordinator; every entity's history must then be a chain of declared
#     transitions ending at its current status;
#   - a third worker added after attach(): reference tables replicated to
#     it, a shard of a bound table moved there, writes to that shard
#     enforced (its catalog loaded at the first one) and recorded there.
# Prints "ok - " / "not ok - " lines (see docs/citus-design.md).
#
#   bash test/citus/run.sh
#
# Needs Citus installed in PG_CONFIG's installation (the private copy under
# SF_PREFIX when set), or CITUS_SRC (see scripts/citus.sh) to build it;
# otherwise prints one "skipped: ..." line and exits 0.  Builds and installs
# statusflow when it is not installed there.  SF_CITUS_PORT is the first
# port tried (default 57630).
set -uo pipefail
source "$(dirname "$0")/../../scripts/citus.sh"
# a relative CITUS_SRC names a path from where we were started
[ -z "${CITUS_SRC:-}" ] || CITUS_SRC=$(readlink -f "$CITUS_SRC")
cd "$SF_ROOT"
sf_use_prefix

if ! sf_citus_installed && [ -z "${CITUS_SRC:-}" ]; then
	echo "skipped: Citus not installed and CITUS_SRC not given"
	exit 0
fi
major=$("$PG_CONFIG" --version | grep -oE '[0-9]+' | head -n 1)
if ! sf_citus_installed; then
	# (read whole first: with pipefail, grep -q leaving early fails the pipe)
	versions=$(sf_citus_versions | paste -sd ' ')
	if [[ " $versions " != *" $major "* ]]; then
		echo "skipped: the Citus of CITUS_SRC does not build for PostgreSQL $major (it builds for: $versions)"
		exit 0
	fi
fi

failed=0
# check TITLE EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "#   expected: $2"
		echo "#   got:      $3"
		failed=$((failed + 1))
	fi
}

sf_citus_build || { echo "not ok - Citus builds and installs from CITUS_SRC"; exit 1; }
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/statusflow.control" ]; then
	sf_build || { echo "not ok - statusflow builds and installs"; exit 1; }
fi
trap sf_citus_stop EXIT
sf_citus_start || { echo "not ok - the Citus cluster starts"; exit 1; }
worker=${SF_CITUS_WORKER_PORTS%% *}

# q [psql options...] SQL: one value, unaligned
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@" 2>&1; }

check "the coordinator lists itself and two workers, metadata synced" \
	"3" "$(q -c "SELECT count(*) FROM pg_catalog.pg_dist_node
		WHERE isactive AND hasmetadata AND metadatasynced")"

q -c 'CREATE EXTENSION statusflow' >/dev/null
version=$(q -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'statusflow'")
for port in $SF_CITUS_WORKER_PORTS; do
	check "CREATE EXTENSION statusflow reached the worker on port $port at version $version" \
		"$version" "$(q -p "$port" -c "SELECT extversion FROM pg_catalog.pg_extension
			WHERE extname = 'statusflow'")"
done

check "through the coordinator: a workflow's enum type, a distributed table of it, rows on its shards" \
	"4|t" "$(q <<-'SQL'
		SELECT statusflow.create_workflow('smoke', ARRAY['new', 'done'], ARRAY['new'], ARRAY['done']) \gset
		CREATE TABLE smoke (account_id bigint, id bigint, status smoke_status NOT NULL DEFAULT 'new',
		                    PRIMARY KEY (account_id, id));
		SELECT pg_catalog.create_distributed_table('smoke', 'account_id', shard_count => 4) \gset
		INSERT INTO smoke (account_id, id) SELECT a, 1 FROM pg_catalog.generate_series(1, 4) a;
		SELECT pg_catalog.count(*),
		       pg_catalog.count(DISTINCT pg_catalog.get_shard_id_for_distribution_column('smoke', account_id)) > 1
		FROM smoke;
	SQL
	)"

check "on a worker: the enum type arrived and a query of the distributed table runs there" \
	"new|4" "$(q -p "$worker" -c "SELECT status::text, pg_catalog.count(*) FROM smoke GROUP BY status")"

# the pg_regress suite, on the coordinator's database; \! psql in it reaches
# the coordinator through PGHOST/PGPORT, SF_CITUS_WORKER1 is a worker's port
export SF_CITUS_WORKER1="$worker"
tests=$(cd test/citus/sql && ls *.sql | sed 's/\.sql$//' | sort)
rm -rf test/citus/results test/citus/regression.diffs test/citus/regression.out
mkdir -p test/citus/results
[ "$(id -u)" != 0 ] || chown postgres test/citus/results
pg_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress"
# from PostgreSQL 16, expected files are looked for apart from inputdir
dirs=(--inputdir=test/citus --outputdir=test/citus)
! "$pg_regress" --help | grep -q -- --expecteddir || dirs+=(--expecteddir=test/citus)
if "$pg_regress" --use-existing \
	--dbname=postgres --host="$PGHOST" --port="$PGPORT" --user=postgres \
	--bindir="$SF_PGBIN" "${dirs[@]}" \
	$tests >test/citus/results/pg_regress.log 2>&1; then
	echo "ok - pg_regress suite test/citus ($(echo $tests))"
else
	echo "not ok - pg_regress suite test/citus ($(echo $tests)): see test/citus/regression.diffs"
	grep -E '^(ok|not ok) |^test |^ +[a-z_]+ +\.\.\. ' test/citus/results/pg_regress.log | sed 's/^/#   /'
	failed=$((failed + 1))
fi

# the concurrency run: clients fire events at random (conc_step() ignores
# the refusals of events that do not apply) and update rows directly
q >/dev/null <<-'SQL'
	SELECT statusflow.create_workflow('conc', ARRAY['new', 'sent', 'opened', 'done', 'lost'],
		ARRAY['new'], ARRAY['done', 'lost']) IS NOT NULL;
	SELECT statusflow.add_transition('conc', ARRAY['new'], 'sent', 'send');
	SELECT statusflow.add_transition('conc', ARRAY['sent'], 'opened', 'open');
	SELECT statusflow.add_transition('conc', ARRAY['opened'], 'sent', 'resend');
	SELECT statusflow.add_transition('conc', ARRAY['opened'], 'done', 'finish');
	SELECT statusflow.add_transition('conc', ARRAY['new', 'sent', 'opened'], 'lost', 'lose');
	CREATE TABLE conc (account_id bigint, id bigint, status conc_status NOT NULL DEFAULT 'new',
	                   PRIMARY KEY (account_id, id));
	SELECT pg_catalog.create_distributed_table('conc', 'account_id');
	INSERT INTO conc (account_id, id) SELECT a, i FROM pg_catalog.generate_series(1, 40) a,
		pg_catalog.generate_series(1, 5) i;
	SELECT statusflow.attach('conc', 'status', 'conc');
	CREATE FUNCTION conc_step(a bigint, i bigint, e text) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM statusflow.fire('conc', ROW(a, i), e);
	EXCEPTION WHEN check_violation THEN
		NULL;
	END $$;
SQL
cat >"$SF_CITUS_DIR/conc.pgbench" <<-'PGB'
	\set a random(1, 40)
	\set i random(1, 5)
	\set e random(1, 12)
	SELECT conc_step(:a, :i, (ARRAY['send', 'open', 'resend', 'finish', 'lose', 'send', 'open', 'resend', 'send', 'open', 'open', 'resend'])[:e]);
	UPDATE conc SET status = 'opened' WHERE account_id = :a AND id = :i AND status = 'sent';
PGB
clients=4
transactions=150
if "$SF_PGBIN/pgbench" -n -c "$clients" -j 2 -t "$transactions" -f "$SF_CITUS_DIR/conc.pgbench" \
	>"$SF_CITUS_DIR/pgbench.log" 2>&1; then
	echo "ok - $clients pgbench clients ran $transactions transactions each through the coordinator"
else
	echo "not ok - $clients pgbench clients ran $transactions transactions each through the coordinator"
	sed 's/^/#   /' "$SF_CITUS_DIR/pgbench.log" | tail -n 20
	failed=$((failed + 1))
fi
# entities, broken links, undeclared transitions, last status not the
# row's, and whether the run moved rows at all.  An entity's rows are in
# history_id order: its shard's worker draws them while the row is locked
# (occurred_at, the time its transaction started, may be out of order).
check "after the run, every entity's history is a chain of declared transitions ending at its status" \
	"200|0|0|0|t" "$(q <<-'SQL'
		CREATE TEMP TABLE h AS
		SELECT account_id, id, from_status::text AS from_status, to_status::text AS to_status,
		       pg_catalog.lag(to_status::text) OVER w AS before,
		       pg_catalog.row_number() OVER w AS n,
		       pg_catalog.count(*) OVER (PARTITION BY account_id, id) AS total
		FROM conc_status_history
		WINDOW w AS (PARTITION BY account_id, id ORDER BY history_id);
		CREATE TEMP TABLE cur AS SELECT account_id, id, status::text AS status FROM conc;
		CREATE TEMP TABLE declared AS
		SELECT from_status, to_status FROM statusflow.transition WHERE workflow = 'conc';
		SELECT (SELECT pg_catalog.count(*) FROM cur),
		       (SELECT pg_catalog.count(*) FROM h WHERE from_status IS DISTINCT FROM before),
		       (SELECT pg_catalog.count(*) FROM h WHERE n > 1 AND (from_status, to_status)
		          NOT IN (SELECT from_status, to_status FROM declared)),
		       (SELECT pg_catalog.count(*) FROM cur c JOIN h ON h.account_id = c.account_id
		          AND h.id = c.id AND h.n = h.total WHERE h.to_status IS DISTINCT FROM c.status),
		       (SELECT pg_catalog.count(*) FROM h WHERE n > 1) > 200;
	SQL
	)"

started=$SECONDS
# a worker added after the catalog was written: it gets no catalog until a
# shard with statusflow's triggers is written there; its first write loads
# the catalog from its placement of the reference table cluster_catalog
q >/dev/null <<-'SQL'
	SELECT statusflow.create_workflow('late', ARRAY['new', 'sent', 'done'], ARRAY['new'],
		ARRAY['done']) IS NOT NULL;
	SELECT statusflow.add_transition('late', ARRAY['new'], 'sent', 'send');
	SELECT statusflow.add_transition('late', ARRAY['sent'], 'done', 'finish');
	CREATE TABLE late (account_id bigint, id bigint, status late_status NOT NULL DEFAULT 'new',
	                   PRIMARY KEY (account_id, id));
	SELECT pg_catalog.create_distributed_table('late', 'account_id', shard_count => 4);
	INSERT INTO late (account_id, id) SELECT a, i FROM pg_catalog.generate_series(1, 8) a,
		pg_catalog.generate_series(1, 2) i;
	SELECT statusflow.attach('late', 'status', 'late');
	UPDATE late SET status = 'sent' WHERE id = 1;
SQL
if sf_citus_add_worker worker3 >"$SF_CITUS_DIR/worker3.add.log" 2>&1; then
	worker3=$SF_CITUS_NODE_PORT
	echo "ok - a third worker on port $worker3 joined the cluster after attach()"
	check "the third worker has no statusflow binding yet" \
		"0" "$(q -p "$worker3" -c "SELECT pg_catalog.count(*) FROM statusflow.binding")"
	# the shard of account 1, with its co-located history shard, moved there
	check "reference tables replicated and the shard of account 1 moved to the third worker" \
		"$worker3|2" "$(q <<-SQL
			SELECT pg_catalog.replicate_reference_tables('block_writes') \gset
			SELECT pg_catalog.citus_move_shard_placement(s.shardid, p.nodename, p.nodeport,
				'127.0.0.1', $worker3, shard_transfer_mode => 'block_writes')
			FROM pg_catalog.pg_dist_shard_placement p
			JOIN pg_catalog.pg_dist_shard s ON s.shardid = p.shardid
			WHERE s.shardid = pg_catalog.get_shard_id_for_distribution_column('late', 1) \gset
			SELECT p.nodeport, pg_catalog.count(*) FROM pg_catalog.pg_dist_shard_placement p
			WHERE p.shardid IN (pg_catalog.get_shard_id_for_distribution_column('late', 1),
			                    pg_catalog.get_shard_id_for_distribution_column('late_status_history', 1))
			GROUP BY 1;
		SQL
		)"
	check "on the third worker, an undeclared change is refused (23514) and nothing is written" \
		"23514|sent" "$(psql -X -q -At 2>/dev/null <<-'SQL'
			UPDATE late SET status = 'new' WHERE account_id = 1 AND id = 1;
			SELECT :'LAST_ERROR_SQLSTATE' || '|' || status::text FROM late WHERE account_id = 1 AND id = 1;
		SQL
		)"
	check "on the third worker, a declared change is applied and its history row written in the history shard there" \
		"done|$worker3|1|1" "$(q <<-'SQL'
			UPDATE late SET status = 'done' WHERE account_id = 1 AND id = 1 RETURNING status \gset
			SELECT :'status' || '|' || r.nodeport || '|' || r.result || '|' ||
			       (SELECT pg_catalog.count(*) FROM late_status_history
			        WHERE account_id = 1 AND id = 1 AND to_status = 'done')
			FROM pg_catalog.run_command_on_placements('late_status_history',
				$$SELECT count(*) FROM %s WHERE account_id = 1 AND id = 1 AND to_status = 'done'$$) r
			WHERE r.shardid = pg_catalog.get_shard_id_for_distribution_column('late_status_history', 1);
		SQL
		)"
	check "the third worker loaded the catalog: the binding of late, its workflow's transitions" \
		"1|2" "$(q -p "$worker3" -c "SELECT (SELECT pg_catalog.count(*) FROM statusflow.binding b
			WHERE b.table_name = 'late'::regclass) || '|' || (SELECT pg_catalog.count(*)
			FROM statusflow.transition t WHERE t.workflow = 'late')")"
else
	echo "not ok - a third worker joined the cluster after attach()"
	sed 's/^/#   /' "$SF_CITUS_DIR/worker3.add.log" | tail -n 20
	failed=$((failed + 1))
fi
sf_log "the third worker's checks took $((SECONDS - started)) s"

[ "$failed" -eq 0 ]
