#!/usr/bin/env bash
# Smoke check of the Citus tooling (scripts/citus.sh): a coordinator and two
# workers start, statusflow's extension reaches the workers, and queries run
# through the coordinator and on a worker.  Prints "ok - " / "not ok - "
# lines; statusflow's own behaviour on Citus is not tested here yet (see
# docs/citus-design.md).
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

[ "$failed" -eq 0 ]
