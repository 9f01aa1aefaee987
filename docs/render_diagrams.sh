#!/usr/bin/env bash
# Render an SVG diagram (Graphviz dot, from statusflow.to_dot()) of every
# workflow a query returns.
#
#   bash docs/render_diagrams.sh [--setup FILE.sql]... [--sql COMMAND]...
#                                [--query QUERY] [--out DIR]
#
# Like the demo, it builds and installs the extension and starts a throwaway
# server, which it stops when done.  It creates the extension, runs the setup
# files and commands in the order given (default: the demo's scripts,
# demo/*.sql in name order), then writes DIR/<workflow>.svg (default DIR:
# docs/diagrams) for each workflow named in the first column of QUERY
# (default: every workflow).  For the presets alone, for example:
#   bash docs/render_diagrams.sh \
#       --sql "SELECT statusflow.install_preset(name) FROM statusflow.presets()" \
#       --query "SELECT workflow FROM statusflow.workflows ORDER BY 1"
set -euo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"

query="SELECT workflow FROM statusflow.workflows ORDER BY 1"
out="$SF_ROOT/docs/diagrams"
setup=()
while [ $# -gt 0 ]; do
	case "$1" in
		--setup) setup+=("file:$2"); shift 2 ;;
		--sql) setup+=("sql:$2"); shift 2 ;;
		--query) query="$2"; shift 2 ;;
		--out) out="$2"; shift 2 ;;
		*) echo "usage: $0 [--setup FILE.sql]... [--sql COMMAND]... [--query QUERY] [--out DIR]" >&2
		   exit 2 ;;
	esac
done
if [ ${#setup[@]} -eq 0 ]; then
	for file in "$SF_ROOT"/demo/*.sql; do setup+=("file:$file"); done
fi

if ! command -v dot >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		sf_log "Graphviz is missing: apt-get install -y graphviz"
		exit 1
	fi
	sf_log "installing graphviz"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
sf_install_deps
sf_build
trap sf_stop_cluster EXIT
sf_start_cluster -c fsync=off
"$SF_PGBIN/createdb" statusflow_diagrams
export PGDATABASE=statusflow_diagrams
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS statusflow' >/dev/null
for step in "${setup[@]}"; do
	case "$step" in
		file:*) psql -X -q -v ON_ERROR_STOP=1 -f "${step#file:}" >/dev/null 2>&1 ||
					{ sf_log "setup failed: ${step#file:}"; exit 1; } ;;
		sql:*) psql -X -q -v ON_ERROR_STOP=1 -c "${step#sql:}" >/dev/null ;;
	esac
done

mkdir -p "$out"
psql -X -At -v ON_ERROR_STOP=1 -c "SELECT w FROM ($query) q(w)" | while IFS= read -r workflow; do
	file="$out/$(printf '%s' "$workflow" | tr -c 'A-Za-z0-9_.-' '_').svg"
	# psql interpolates :'w' (a quoted literal) in its input, not in -c
	echo "SELECT statusflow.to_dot(:'w')" | psql -X -At -v ON_ERROR_STOP=1 -v w="$workflow" |
		dot -Tsvg -o "$file"
	sf_log "$workflow -> ${file#"$SF_ROOT"/}"
done
