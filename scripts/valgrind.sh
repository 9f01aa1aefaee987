#!/usr/bin/env bash
# Run the pg_regress suite with the server under valgrind (memcheck), and
# report the errors whose stack passes through statusflow's code.
#
#   bash scripts/valgrind.sh            # every pg_regress file (about 10 minutes)
#   bash scripts/valgrind.sh security   # some of them ("setup" is always first)
#
# Installs valgrind and the PostgreSQL packages when missing (as root), builds
# and installs the extension, starts a throwaway server under valgrind and
# stops it.  Debian's PostgreSQL is not built with USE_VALGRIND, so memory
# freed back to a memory context is not poisoned: what this catches is
# reading uninitialised or unallocated memory, and overruns of what malloc
# gave.  Each server process logs to valgrind.<pid>.log in a temporary
# directory, kept when errors are found.  Ends with "valgrind: N errors in
# statusflow" and exits non-zero if N > 0.
set -uo pipefail
source "$(dirname "$0")/pgenv.sh"
cd "$SF_ROOT"

sf_install_deps || exit 1
command -v valgrind >/dev/null 2>&1 || sf_apt_install valgrind || exit 1
sf_build || exit 1

VG_DIR="$(mktemp -d /tmp/statusflow-valgrind.XXXXXX)"
chmod 777 "$VG_DIR"
export SF_SERVER_WRAPPER="valgrind --quiet --trace-children=yes --track-origins=yes
	--read-var-info=yes --error-limit=no --num-callers=30
	--log-file=$VG_DIR/valgrind.%p.log"
export SF_START_TRIES=600
trap sf_stop_cluster EXIT
sf_start_cluster -c fsync=off -c shared_preload_libraries= -c max_connections=20 || exit 1

# the Makefile's order, or setup and the files named
regress=()
[ $# -gt 0 ] && regress=(REGRESS="setup $*")
sf_log "pg_regress under valgrind: ${*:-every file}"
make -s PG_CONFIG="$PG_CONFIG" installcheck ISOLATION= "${regress[@]}" |
	grep -E '^(test| +[a-z_]+ +\.\.\.)|tests'
sf_stop_cluster
trap - EXIT

# an error block starts with "==pid== <kind>" and ends at a line "==pid== ";
# "Syscall param ... uninitialised" of page and WAL writes is PostgreSQL's
# own padding, which valgrind reports without USE_VALGRIND
errors=$(awk '
	/^==[0-9]+== [A-Z]/ && !/^==[0-9]+== (HEAP|LEAK|ERROR SUMMARY|For lists|All heap|Syscall param)/ {
		if (block != "" && block ~ /statusflow\.so|src\/[a-z]+\.c/) { n++; print block > "/dev/stderr" }
		block = $0; next }
	/^==[0-9]+== *$/ { if (block != "" && block ~ /statusflow\.so|src\/[a-z]+\.c/) { n++; print block "\n" > "/dev/stderr" }
		block = ""; next }
	{ if (block != "") block = block "\n" $0 }
	END { print n + 0 }' "$VG_DIR"/valgrind.*.log)
if [ "$errors" -eq 0 ]; then
	rm -rf "$VG_DIR"
else
	sf_log "valgrind logs kept in $VG_DIR"
fi
echo "valgrind: $errors errors in statusflow"
[ "$errors" -eq 0 ]
