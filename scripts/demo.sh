#!/usr/bin/env bash
# Run the statusflow demo end to end on a throwaway server: installs missing
# Debian packages (as root), builds and installs the extension, starts a
# server, runs demo/*.sql in name order and stops the server again.
#   bash scripts/demo.sh          run and stop
#   bash scripts/demo.sh --keep   leave the server running to explore
set -euo pipefail
source "$(dirname "$0")/pgenv.sh"

sf_install_deps
sf_build
if [ "${1:-}" != "--keep" ]; then
	trap sf_stop_cluster EXIT
fi
sf_start_cluster -c fsync=off
"$SF_PGBIN/createdb" statusflow_demo
export PGDATABASE=statusflow_demo
for script in "$SF_ROOT"/demo/*.sql; do
	psql -X -q -f "$script"
done
if [ "${1:-}" = "--keep" ]; then
	echo
	echo "The server keeps running (pid $SF_PID). Connect with:"
	echo "  psql -h $PGHOST -p $PGPORT -U postgres statusflow_demo"
	echo "Stop it with: kill -INT $SF_PID"
fi
