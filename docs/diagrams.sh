#!/usr/bin/env bash
# Write, or check, the diagram files of workflows, on the server that the
# PG* environment variables name (docs/render_diagrams.sh starts one).
#
#   bash docs/diagrams.sh --write|--check [--setup FILE.sql]... [--sql COMMAND]...
#                         [--query QUERY] [--out DIR]
#
# In a fresh database statusflow_diagrams it creates the extension, runs the
# setup files and commands in the order given (default: the demo's scripts,
# demo/*.sql in name order), then takes each workflow named in the first
# column of QUERY (default: every workflow).  For each, DIR (default
# docs/diagrams) holds <workflow>.dot and <workflow>.mmd, the output of
# statusflow.to_dot() and statusflow.to_mermaid(), and <workflow>.svg, the
# DOT rendered by Graphviz.
#   --write  writes the three files (needs Graphviz's dot);
#   --check  prints "ok" or "not ok" with a diff for each source file, and
#            fails when one differs, is missing or names no workflow: the
#            committed diagrams must match what the extension draws.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

mode=""
query="SELECT workflow FROM statusflow.workflows ORDER BY 1"
out="$root/docs/diagrams"
setup=()
while [ $# -gt 0 ]; do
	case "$1" in
		--write|--check) mode="$1"; shift ;;
		--setup) setup+=("file:$2"); shift 2 ;;
		--sql) setup+=("sql:$2"); shift 2 ;;
		--query) query="$2"; shift 2 ;;
		--out) out="$2"; shift 2 ;;
		*) mode=""; break ;;
	esac
done
if [ -z "$mode" ]; then
	echo "usage: $0 --write|--check [--setup FILE.sql]... [--sql COMMAND]... [--query QUERY] [--out DIR]" >&2
	exit 2
fi
if [ ${#setup[@]} -eq 0 ]; then
	for file in "$root"/demo/*.sql; do setup+=("file:$file"); done
fi

export PGDATABASE=statusflow_diagrams
psql -X -q -d postgres -c 'SET client_min_messages = warning' \
	-c 'DROP DATABASE IF EXISTS statusflow_diagrams' \
	-c 'CREATE DATABASE statusflow_diagrams' >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS statusflow' >/dev/null
for step in "${setup[@]}"; do
	case "$step" in
		file:*) psql -X -q -v ON_ERROR_STOP=1 -f "${step#file:}" >/dev/null 2>&1 ||
					{ echo "setup failed: ${step#file:}" >&2; exit 1; } ;;
		sql:*) psql -X -q -v ON_ERROR_STOP=1 -c "${step#sql:}" >/dev/null ;;
	esac
done

# the text of statusflow.<func>(workflow); psql interpolates :'w' (a quoted
# literal) in its input, not in -c
diagram() {
	echo "SELECT statusflow.$1(:'w')" | psql -X -At -v ON_ERROR_STOP=1 -v w="$2"
}

mkdir -p "$out"
failed=0
declare -A drawn=()
while IFS= read -r workflow; do
	base="$out/$(printf '%s' "$workflow" | tr -c 'A-Za-z0-9_.-' '_')"
	drawn["$base.dot"]=1
	drawn["$base.mmd"]=1
	for kind in dot:to_dot mmd:to_mermaid; do
		file="$base.${kind%%:*}"
		text="$(diagram "${kind#*:}" "$workflow")"
		if [ "$mode" = --write ]; then
			printf '%s\n' "$text" >"$file"
		elif printf '%s\n' "$text" | cmp -s "$file" -; then
			echo "ok - ${file#"$root"/} is what ${kind#*:}('$workflow') draws"
		else
			echo "not ok - ${file#"$root"/} is not what ${kind#*:}('$workflow') draws:"
			printf '%s\n' "$text" | diff -u "$file" - | sed 's/^/    /' || true
			failed=1
		fi
	done
	if [ "$mode" = --write ]; then
		dot -Tsvg -o "$base.svg" "$base.dot"
		echo "$workflow -> ${base#"$root"/}.{dot,mmd,svg}" >&2
	fi
done < <(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT w FROM ($query) q(w)")

# source files in DIR that no workflow draws any more
for file in "$out"/*.dot "$out"/*.mmd; do
	if [ -e "$file" ] && [ -z "${drawn[$file]:-}" ]; then
		echo "not ok - ${file#"$root"/} names no workflow"
		failed=1
	fi
done
psql -X -q -d postgres -c 'DROP DATABASE statusflow_diagrams' >/dev/null
exit "$failed"
