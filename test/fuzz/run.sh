#!/usr/bin/env bash
# Fuzz every statusflow function a non-superuser may execute.
#
#   bash test/fuzz/run.sh               against the running throwaway server
#                                       (PGHOST/PGPORT/PGUSER as set by
#                                       sf_start_cluster in scripts/pgenv.sh)
#   bash test/fuzz/run.sh --standalone  installs missing packages, builds and
#                                       installs the extension, starts its own
#                                       server and stops it at the end
#   bash test/fuzz/run.sh --setup-only  only makes the database (to replay
#                                       the statements of a report)
#
# In a fresh database it builds a multi-tenant world (setup.sql), finds the
# functions of the extension (through pg_depend, in any schema) that the
# role fuzz_attacker may execute, and calls each of them, as fuzz_attacker
# and as the tenant role fuzz_tenant_b (each of its calls rolled back), with
# random hostile arguments chosen per argument type (generator.sql).  Each
# call is one psql statement, so errors are expected: psql reports each
# error's SQLSTATE and the line of the statement.
#
# The calls run in chunks; each chunk starts from a copy of the database as
# setup.sql left it, and is followed by the checks: the victims' tables
# still work for their owners (victims.sql) and no role, privilege, owner or
# victim workflow changed (snapshot.sql).  When a check fails, the chunk is
# bisected (replayed from the copy) to the first call after which it fails.
#
# Failures: a backend crash (the connection lost, or "terminated by signal"
# in the server log; the runner waits for the server and goes on after the
# crashing call), an internal error (SQLSTATE class XX), a failed check.
#
# Environment:
#   SEED         the random seed (default 20240917); the same seed and code
#                make the same calls
#   FUZZ_CALLS   calls in all (default 24000; two thirds as fuzz_attacker)
#   FUZZ_BATCH   calls per batch, shared by the two roles (default 1000)
#   FUZZ_ONLY    fuzz only the functions whose signature matches this
#                regular expression (e.g. '^statusflow\._event_target')
#   FUZZ_DB      the database (default statusflow_fuzz; also <it>_template)
#   FUZZ_OUT     where the calls, errors and reproductions are written
#                (default: a new directory under /tmp, removed when ok)
#   FUZZ_MAX_CRASHES_PER_FUNCTION  after that many crashes of a function,
#                its remaining calls are skipped (default 3)
#   FUZZ_MAX_CRASHES   stop after that many crashes in all (default 40)
#   FUZZ_MAX_BISECTS   bisect at most that many failed checks (default 3)
#   FUZZ_TIME_LIMIT    start no batch after that many seconds (default 200)
#   FUZZ_SERVER_LOG    the server's log (default $PGHOST/server.log)
#   FUZZ_SELFTEST=1    add three faulty functions to the extension
#                (selftest.sql) and succeed only if the crash, the internal
#                error and the privilege they cause are all reported; use
#                with FUZZ_CALLS=3000 or so
#
# Ends with "ok - fuzz: N calls, 0 crashes, 0 internal errors" or
# "not ok - fuzz: ..."; exit status 0 only when ok.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

standalone=""
setup_only=""
for arg in "$@"; do
	case "$arg" in
	--standalone) standalone=1 ;;
	--setup-only) setup_only=1 ;;
	-h | --help)
		sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "unknown argument: $arg (see --help)" >&2
		exit 2
		;;
	esac
done

SEED="${SEED:-20240917}"
FUZZ_CALLS="${FUZZ_CALLS:-24000}"
FUZZ_BATCH="${FUZZ_BATCH:-1000}"
FUZZ_DB="${FUZZ_DB:-statusflow_fuzz}"
FUZZ_MAX_CRASHES_PER_FUNCTION="${FUZZ_MAX_CRASHES_PER_FUNCTION:-3}"
FUZZ_MAX_CRASHES="${FUZZ_MAX_CRASHES:-40}"
FUZZ_MAX_BISECTS="${FUZZ_MAX_BISECTS:-3}"
FUZZ_TIME_LIMIT="${FUZZ_TIME_LIMIT:-200}"
TEMPLATE_DB="${FUZZ_DB}_template"
keep_out=""
if [ -n "${FUZZ_OUT:-}" ]; then
	keep_out=1
	mkdir -p "$FUZZ_OUT" || exit 1
	rm -rf "${FUZZ_OUT:?}/rec" "$FUZZ_OUT/probe"
else
	FUZZ_OUT="$(mktemp -d /tmp/statusflow-fuzz.XXXXXX)"
fi
out="$FUZZ_OUT"
chmod 755 "$out"
started=$SECONDS

log() { printf '# %s\n' "$*"; }

if [ -n "$standalone" ]; then
	source "$here/../../scripts/pgenv.sh"
	sf_install_deps || exit 1
	sf_build || exit 1
	trap sf_stop_cluster EXIT
	sf_start_cluster -c fsync=off || exit 1
	server_log="$SF_TMP/server.log"
else
	if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ]; then
		echo "PGHOST and PGPORT must name a running server (see scripts/pgenv.sh), or use --standalone" >&2
		exit 2
	fi
	server_log="${FUZZ_SERVER_LOG:-$PGHOST/server.log}"
fi
[ -r "$server_log" ] || server_log=""
SUPERUSER="${PGUSER:-postgres}"

# psql as the superuser, in the fuzz database or in postgres
su_psql() { psql -X -q -v ON_ERROR_STOP=1 -U "$SUPERUSER" -d "$FUZZ_DB" "$@"; }
admin_psql() { psql -X -q -v ON_ERROR_STOP=1 -U "$SUPERUSER" -d postgres -c "SET client_min_messages = warning" "$@"; }

wait_for_server() {
	local i
	for i in $(seq 1 300); do
		if psql -X -q -At -U "$SUPERUSER" -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

log_offset=0
[ -n "$server_log" ] && log_offset=$(wc -c <"$server_log")
# New lines of the server log about crashed processes, since the last look
# (call it without a subshell, so that the offset moves: f >file).
server_log_crashes() {
	[ -n "$server_log" ] || return 0
	local size
	size=$(wc -c <"$server_log")
	if [ "$size" -gt "$log_offset" ]; then
		tail -c +"$((log_offset + 1))" "$server_log" | head -c "$((size - log_offset))" |
			grep -aE 'terminated by signal|terminated by exception|exited with exit code|PANIC:|Failed process was running' |
			cut -c1-2000
	fi
	log_offset=$size
}

# The fuzz database as setup.sql left it.  FILE_COPY, not WAL_LOG: a
# sequence copied by WAL_LOG goes back to its copied value when the server
# restarts after a crash (its later nextval() calls are not in the WAL),
# which made the victims' history tables hit duplicate ids after a crash.
restore_db() {
	admin_psql -c "DROP DATABASE IF EXISTS $FUZZ_DB WITH (FORCE)" \
		-c "CREATE DATABASE $FUZZ_DB TEMPLATE $TEMPLATE_DB STRATEGY FILE_COPY" >/dev/null 2>"$out/restore.err" || {
		wait_for_server
		admin_psql -c "DROP DATABASE IF EXISTS $FUZZ_DB WITH (FORCE)" \
			-c "CREATE DATABASE $FUZZ_DB TEMPLATE $TEMPLATE_DB STRATEGY FILE_COPY" >/dev/null 2>"$out/restore.err"
	}
}

########################################################################
# the database and the calls
########################################################################
log "statusflow fuzz: seed $SEED, $FUZZ_CALLS calls, database $FUZZ_DB, output $out"
admin_psql -c "DROP DATABASE IF EXISTS $FUZZ_DB WITH (FORCE)" \
	-c "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)" -c "CREATE DATABASE $FUZZ_DB" || exit 1
if ! su_psql -f "$here/setup.sql" >"$out/setup.log" 2>&1; then
	cat "$out/setup.log"
	echo "not ok - fuzz: setup failed"
	exit 1
fi
if [ "${FUZZ_SELFTEST:-}" = 1 ] && ! su_psql -f "$here/selftest.sql" >>"$out/setup.log" 2>&1; then
	cat "$out/setup.log"
	echo "not ok - fuzz: self-test setup failed"
	exit 1
fi
if ! su_psql -f "$here/generator.sql" >"$out/generator.log" 2>&1; then
	cat "$out/generator.log"
	echo "not ok - fuzz: generator failed"
	exit 1
fi

if [ -n "$setup_only" ]; then
	[ -z "$keep_out" ] && rm -rf "$out"
	log "database $FUZZ_DB made; replay a statement as the role it names, e.g."
	log "  psql -d $FUZZ_DB -U fuzz_attacker -v VERBOSITY=verbose -c '<statement>'"
	if [ -n "$standalone" ]; then
		trap - EXIT
		log "the server keeps running: export PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER; stop it with: kill -INT $SF_PID"
	fi
	exit 0
fi

roles=(fuzz_attacker fuzz_tenant_b)
calls_attacker=$((FUZZ_CALLS * 2 / 3))
declare -A role_calls=([fuzz_attacker]=$calls_attacker [fuzz_tenant_b]=$((FUZZ_CALLS - calls_attacker)))
declare -A role_rollback=([fuzz_attacker]=false [fuzz_tenant_b]=true)
declare -A role_seed=([fuzz_attacker]=$SEED [fuzz_tenant_b]=$((SEED + 1)))

for role in "${roles[@]}"; do
	# one line per statement: call number <TAB> function (empty for a line
	# that only prepares or cleans up the session) <TAB> statement
	if ! su_psql -At -F $'\t' -v only="${FUZZ_ONLY:-}" >"$out/$role.tsv" 2>"$out/generate.err" <<-EOF; then
		SELECT call_no, coalesce(fn, ''), stmt
		FROM fuzz_driver.generate(${role_seed[$role]}, '$role', ${role_calls[$role]},
								  ${role_rollback[$role]}, nullif(:'only', ''));
	EOF
		cat "$out/generate.err"
		echo "not ok - fuzz: generating the calls failed"
		exit 1
	fi
	cut -f3- "$out/$role.tsv" >"$out/$role.sql"
	nfun=$(su_psql -At -v only="${FUZZ_ONLY:-}" <<<"SELECT count(*) FROM fuzz_driver.functions('$role') WHERE signature ~ coalesce(nullif(:'only', ''), '')")
	log "$role: $nfun functions to fuzz, ${role_calls[$role]} calls ($(wc -l <"$out/$role.sql") statements, seed ${role_seed[$role]})"
done
log "generated in $((SECONDS - started)) s"

if ! su_psql -f "$here/snapshot.sql" >"$out/snapshot.before" 2>&1; then
	cat "$out/snapshot.before"
	echo "not ok - fuzz: snapshot failed"
	exit 1
fi
admin_psql -c "CREATE DATABASE $TEMPLATE_DB TEMPLATE $FUZZ_DB STRATEGY FILE_COPY" || exit 1

########################################################################
# checks
########################################################################
# Are the victims' tables working, and roles, privileges, owners and the
# victims' workflows as before?  What is wrong goes to file $1.
check_state() {
	local report="$1" victims bad=0
	: >"$report"
	victims=$(psql -X -q -v ON_ERROR_STOP=1 -U "$SUPERUSER" -d "$FUZZ_DB" -f "$here/victims.sql" 2>&1)
	if [ "$(printf '%s\n' "$victims" | grep -c '^victim ok ')" -ne 4 ]; then
		bad=1
		{
			echo "the victims' tables do not work for their owners:"
			printf '%s\n' "$victims" | grep -v '^victim ok ' | cut -c1-1000 | sed 's/^/    /'
		} >>"$report"
	fi
	if ! su_psql -f "$here/snapshot.sql" >"$out/snapshot.now" 2>&1 ||
		! diff "$out/snapshot.before" "$out/snapshot.now" >"$out/snapshot.diff"; then
		bad=1
		{
			echo "roles, privileges, owners or the victims' workflows changed:"
			head -n 40 "$out/snapshot.diff" | cut -c1-1000 | sed 's/^/    /'
		} >>"$report"
	fi
	return "$bad"
}

if ! check_state "$out/check.txt"; then
	cat "$out/check.txt"
	echo "not ok - fuzz: the checks fail before any call"
	exit 1
fi

########################################################################
# running the calls
########################################################################
# In a record directory:
#   errors.tsv   role <TAB> line <TAB> SQLSTATE <TAB> message | DETAIL... | LOCATION...
#   crashes.tsv  role <TAB> line (0: not during a call) <TAB> what the server said
#   ran.tsv      role <TAB> first line <TAB> last line sent
#   skipped.tsv  role <TAB> line <TAB> function (muted after its crashes)
rec="$out/rec"
mkdir -p "$rec" "$out/probe"
for f in errors crashes ran skipped; do : >"$rec/$f.tsv"; done
: >"$out/muted.txt"
: >"$out/checks.txt"
: >"$out/culprits.sql"
declare -A fn_crashes=()
total_crashes=0
check_failures=0
bisects=0

# run_lines role from to recdir: run lines [from, to] of the role's
# statements; after a crash, wait for the server and go on after the
# crashing line.  Only the main record directory counts crashes.
run_lines() {
	local role="$1" from="$2" to="$3" dir="$4"
	local chunk="$out/chunk.sql" err="$out/chunk.err" rc crash_line stuck=0 server_says gline fn
	while [ "$from" -le "$to" ]; do
		# the calls of functions that crashed too often become comments
		awk -F '\t' -v from="$from" -v to="$to" -v muted="$out/muted.txt" -v role="$role" \
			-v skipped="$dir/skipped.tsv" '
			BEGIN { while ((getline m < muted) > 0) mute[m] = 1 }
			NR >= from && NR <= to {
				if ($2 != "" && ($2 in mute)) {
					print "-- skipped: " $2
					print role "\t" NR "\t" $2 >> skipped
				} else {
					s = $0; sub(/^[^\t]*\t[^\t]*\t/, "", s); print s
				}
			}' "$out/$role.tsv" >"$chunk"
		psql -X -q -U "$role" -d "$FUZZ_DB" -v ON_ERROR_STOP=0 -v VERBOSITY=verbose \
			-v SHOW_CONTEXT=errors -f "$chunk" 2>&1 >/dev/null | cut -c1-3000 >"$err"
		rc=${PIPESTATUS[0]}
		# errors, with their DETAIL/HINT/CONTEXT/LOCATION lines
		awk -v chunk="$chunk" -v base="$((from - 1))" -v role="$role" '
			function flush() { if (cur != "") print cur; cur = "" }
			index($0, "psql:" chunk ":") == 1 {
				flush()
				rest = substr($0, length("psql:" chunk ":") + 1)
				line = rest; sub(/:.*/, "", line)
				msg = rest; sub(/^[0-9]+: /, "", msg)
				if (msg ~ /^ERROR:  [0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z]: /)
					cur = role "\t" (line + base) "\t" substr(msg, 9, 5) "\t" substr(msg, 16)
				next
			}
			cur != "" && /^(DETAIL|HINT|CONTEXT|LOCATION|QUERY):  / { cur = cur " | " $0; next }
			END { flush() }' "$err" >>"$dir/errors.tsv"
		crash_line=$(grep -aE "^psql:$chunk:[0-9]+: (server closed the connection unexpectedly|error: connection to server was lost|FATAL: |no connection to the server)" "$err" |
			head -n 1 | sed -E "s|^psql:$chunk:([0-9]+):.*|\1|")
		server_log_crashes >"$out/server_says.txt"
		server_says=$(tr '\n' ' ' <"$out/server_says.txt")
		if [ -z "$crash_line" ] && [ "$rc" -eq 0 ]; then
			printf '%s\t%s\t%s\n' "$role" "$from" "$to" >>"$dir/ran.tsv"
			if [ -n "$server_says" ]; then
				# a process crashed, not this session's
				printf '%s\t0\t%s\n' "$role" "$server_says" >>"$dir/crashes.tsv"
				[ "$dir" = "$rec" ] && total_crashes=$((total_crashes + 1))
			fi
			return 0
		fi
		if [ -z "$crash_line" ]; then
			# psql could not connect, or stopped without saying where
			stuck=$((stuck + 1))
			if [ "$stuck" -ge 3 ]; then
				printf '%s\t0\tpsql stopped (exit %s) before line %s: %s\n' "$role" "$rc" "$from" \
					"$(tr '\n' ' ' <"$err" | cut -c1-500)" >>"$dir/crashes.tsv"
				[ "$dir" = "$rec" ] && total_crashes=$((total_crashes + 1))
				return 1
			fi
			wait_for_server
			continue
		fi
		stuck=0
		gline=$((crash_line + from - 1))
		printf '%s\t%s\t%s\n' "$role" "$from" "$gline" >>"$dir/ran.tsv"
		# wait for the postmaster to restart the backends, and say why
		if ! wait_for_server; then
			printf '%s\t%s\tthe server did not come back\n' "$role" "$gline" >>"$dir/crashes.tsv"
			[ "$dir" = "$rec" ] && total_crashes=$((total_crashes + 1))
			return 1
		fi
		sleep 0.2
		server_log_crashes >"$out/server_says.txt"
		server_says="$server_says $(tr '\n' ' ' <"$out/server_says.txt")"
		[ -n "${server_says// /}" ] ||
			server_says="connection lost: $(grep -aE "^psql:$chunk:$crash_line:" "$err" | tr '\n' ' ')"
		printf '%s\t%s\t%s\n' "$role" "$gline" "$server_says" >>"$dir/crashes.tsv"
		if [ "$dir" = "$rec" ]; then
			total_crashes=$((total_crashes + 1))
			fn=$(sed -n "${gline}p" "$out/$role.tsv" | cut -f2)
			[ -n "$fn" ] || fn="(session setting before a call)"
			fn_crashes[$fn]=$((${fn_crashes[$fn]:-0} + 1))
			if [ "${fn_crashes[$fn]}" -ge "$FUZZ_MAX_CRASHES_PER_FUNCTION" ]; then
				echo "$fn" >>"$out/muted.txt"
			fi
			log "crash at $role line $gline ($fn); going on"
			[ "$total_crashes" -ge "$FUZZ_MAX_CRASHES" ] && return 1
		fi
		from=$((gline + 1))
	done
	return 0
}

# The statement of a role's line, with the session settings just before it.
statement_of() {
	awk -F '\t' -v line="$2" '
		NR < line && $2 == "" && $3 !~ /^(BEGIN|ROLLBACK|RESET ALL);$/ { pre = pre $3 " "; next }
		NR < line { pre = ""; next }
		NR == line { s = $0; sub(/^[^\t]*\t[^\t]*\t/, "", s); print pre s; exit }' "$out/$1.tsv"
}

# The call a line belongs to: the line itself, or the call line before it
# (for BEGIN, ROLLBACK, RESET ALL and the session settings).
call_line_of() {
	awk -F '\t' -v line="$2" '
		NR <= line && $2 != "" { last = NR }
		NR > line && $2 != "" && !found { next_call = NR; found = 1 }
		END { print (last ? last : next_call) }' "$out/$1.tsv"
}

# bisect role first last: the first line of [first, last] after which the
# checks fail, run from a fresh copy of the database, in $culprit.
bisect() {
	local role="$1" first="$2" lo="$2" hi="$3" mid f
	while [ "$lo" -lt "$hi" ]; do
		mid=$(((lo + hi) / 2))
		restore_db
		for f in errors crashes ran skipped; do : >"$out/probe/$f.tsv"; done
		run_lines "$role" "$first" "$mid" "$out/probe" >/dev/null
		if check_state "$out/probe/check.txt"; then lo=$((mid + 1)); else hi=$mid; fi
	done
	culprit=$lo
}

# Does the call at this line break the checks by itself?
breaks_alone() {
	local role="$1" line="$2" f
	restore_db
	for f in errors crashes ran skipped; do : >"$out/probe/$f.tsv"; done
	run_lines "$role" "$line" "$line" "$out/probe" >/dev/null
	! check_state "$out/probe/check.txt"
}

declare -A next_line=()
for role in "${roles[@]}"; do next_line[$role]=1; done
per_batch_attacker=$((FUZZ_BATCH * 2 / 3))
[ "$per_batch_attacker" -ge 1 ] || per_batch_attacker=1
batches=$(((calls_attacker + per_batch_attacker - 1) / per_batch_attacker))
[ "$batches" -ge 1 ] || batches=1
stopped=""
for ((batch = 0; batch < batches; batch++)); do
	for role in "${roles[@]}"; do
		# this batch's share of the role's calls, by call number
		per=$(((role_calls[$role] + batches - 1) / batches))
		last=$(awk -F '\t' -v c="$(((batch + 1) * per))" '$1 < c { n = NR } END { print n + 0 }' "$out/$role.tsv")
		first=${next_line[$role]}
		[ "$last" -ge "$first" ] || continue
		next_line[$role]=$((last + 1))
		restore_db || {
			stopped="the database could not be restored: $(cat "$out/restore.err")"
			break 2
		}
		run_lines "$role" "$first" "$last" "$rec" || stopped="too many crashes"
		if ! check_state "$out/check.txt"; then
			check_failures=$((check_failures + 1))
			{
				echo "after lines $first-$last of $role.sql (batch $((batch + 1))):"
				sed 's/^/  /' "$out/check.txt"
			} >>"$out/checks.txt"
			if [ "$bisects" -lt "$FUZZ_MAX_BISECTS" ] && [ -z "$stopped" ]; then
				bisects=$((bisects + 1))
				log "checks failed after lines $first-$last of $role.sql; bisecting"
				bisect "$role" "$first" "$last"
				cl=$(call_line_of "$role" "$culprit")
				if breaks_alone "$role" "$cl"; then alone="this call alone breaks them"; else
					alone="only after the calls before it in lines $first-$cl"; fi
				printf -- '-- breaks the checks (%s), as %s; end the session, then run victims.sql\n\\c - %s\n%s\n\n' \
					"$alone" "$role" "$role" "$(statement_of "$role" "$cl")" >>"$out/culprits.sql"
				{
					echo "  first failing after line $culprit; the call (line $cl, $alone):"
					echo "    $(sed -n "${cl}p" "$out/$role.tsv" | cut -f2)"
					echo "    $(statement_of "$role" "$cl" | cut -c1-1500)"
					echo "  what the checks said then:"
					sed 's/^/  /' "$out/probe/check.txt"
				} >>"$out/checks.txt"
			fi
			# does it last beyond the database (roles are cluster-wide)?
			restore_db
			if ! check_state "$out/check.txt"; then
				stopped="the checks fail even on a fresh copy of the database"
				sed 's/^/  /' "$out/check.txt" >>"$out/checks.txt"
			fi
		fi
		[ -n "$stopped" ] && break 2
	done
	log "batch $((batch + 1))/$batches done at $((SECONDS - started)) s"
	if [ $((SECONDS - started)) -ge "$FUZZ_TIME_LIMIT" ] && [ $((batch + 1)) -lt "$batches" ]; then
		stopped="time limit of $FUZZ_TIME_LIMIT s reached"
		break
	fi
done

########################################################################
# summary
########################################################################
# calls per function: the call lines of the ranges sent, less the skipped
for role in "${roles[@]}"; do
	awk -F '\t' -v role="$role" '
		FILENAME == ARGV[1] { if ($1 == role) { from[++n] = $2; to[n] = $3 }; next }
		FILENAME == ARGV[2] { if ($1 == role) skip[$2] = 1; next }
		$2 != "" && !(FNR in skip) {
			for (i = 1; i <= n; i++) if (FNR >= from[i] && FNR <= to[i]) { print role "\t" FNR "\t" $2; break }
		}' "$rec/ran.tsv" "$rec/skipped.tsv" "$out/$role.tsv"
done >"$out/calls.tsv"

# per function: calls, errors, crashes, SQLSTATEs
awk -F '\t' '
	FILENAME == ARGV[1] { fn[$1 "\t" $2] = $3; calls[$3]++; next }
	FILENAME == ARGV[2] { k = $1 "\t" $2; if (k in fn) { errs[fn[k]]++; st[fn[k] "\t" $3]++ }; next }
	FILENAME == ARGV[3] { k = $1 "\t" $2; if (k in fn) crashes[fn[k]]++; next }
	END {
		for (s in st) { split(s, p, "\t"); codes[p[1]] = codes[p[1]] " " p[2] "x" st[s] }
		for (f in calls)
			printf "%-60s %5d calls %5d errors %2d crashes %s\n", f, calls[f], errs[f], crashes[f], codes[f]
	}' "$out/calls.tsv" "$rec/errors.tsv" "$rec/crashes.tsv" | sort >"$out/functions.txt"

total_calls=$(wc -l <"$out/calls.tsv")
nskipped=$(wc -l <"$rec/skipped.tsv")
awk -F '\t' '$3 ~ /^XX/' "$rec/errors.tsv" >"$out/internal.tsv"
ninternal=$(wc -l <"$out/internal.tsv")
ncrashes=$(wc -l <"$rec/crashes.tsv")

echo
log "calls per function (as fuzz_attacker and fuzz_tenant_b; SQLSTATE x count):"
sed 's/^/#   /' "$out/functions.txt"
log "$total_calls calls of $(wc -l <"$out/functions.txt") functions in $((SECONDS - started)) s; $nskipped calls skipped after repeated crashes"

: >"$out/repro.sql"
if [ "$ncrashes" -gt 0 ]; then
	log "crashes ($ncrashes):"
	while IFS=$'\t' read -r role line what; do
		if [ "$line" = 0 ]; then
			log "  [$role] not during a call: $what"
			continue
		fi
		fn=$(sed -n "${line}p" "$out/$role.tsv" | cut -f2)
		stmt=$(statement_of "$role" "$line")
		log "  [$role] ${fn:-(session setting)} (line $line of $role.sql)"
		log "      $(printf '%s' "$stmt" | cut -c1-1500)"
		log "      server: $(printf '%s' "$what" | cut -c1-600)"
		printf -- '-- crash, as %s (%s)\n\\c - %s\n%s\n\n' "$role" "$fn" "$role" "$stmt" >>"$out/repro.sql"
	done <"$rec/crashes.tsv"
fi
if [ "$ninternal" -gt 0 ]; then
	# all of them in internal_errors.txt; here one entry per SQLSTATE and
	# place in the code, with the shortest call that raised it
	while IFS=$'\t' read -r role line code msg; do
		fn=$(sed -n "${line}p" "$out/$role.tsv" | cut -f2)
		stmt=$(statement_of "$role" "$line")
		where=$(printf '%s' "$msg" | sed -n 's/.*LOCATION:  \([^|]*\).*/\1/p')
		[ -n "$where" ] || where=$(printf '%s' "$msg" | cut -d'|' -f1 | sed 's/[0-9][0-9]*/N/g')
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$code at $where" "$role" "$line" "$code" "${fn:-?}" "$msg" "$stmt"
	done <"$out/internal.tsv" >"$out/internal_full.tsv"
	cut -f2- "$out/internal_full.tsv" | sed 's/\t/ | /g' >"$out/internal_errors.txt"
	log "internal errors ($ninternal, $(cut -f1 "$out/internal_full.tsv" | sort -u | wc -l) places; all in $out/internal_errors.txt):"
	awk -F '\t' '
		{
			n[$1]++
			if (!(($1 SUBSEP $5) in seen)) { seen[$1, $5] = 1; fns[$1] = fns[$1] (fns[$1] == "" ? "" : ", ") $5 }
			if (!($1 in stmt) || length($7) < length(stmt[$1])) { role[$1] = $2; stmt[$1] = $7; msg[$1] = $6 }
		}
		END {
			for (k in n) {
				printf "#   %s: %d calls of %s\n", k, n[k], fns[k]
				printf "#       e.g. as %s: %s\n", role[k], substr(stmt[k], 1, 1500)
				printf "#       -> %s\n", substr(msg[k], 1, 500)
				printf "-- %s, as %s: %s\n\\c - %s\n%s\n\n", k, role[k], substr(msg[k], 1, 300), role[k], stmt[k] >> repro
			}
		}' repro="$out/repro.sql" "$out/internal_full.tsv"
fi
cat "$out/culprits.sql" >>"$out/repro.sql"
if [ "$check_failures" -gt 0 ]; then
	log "failed checks ($check_failures):"
	sed 's/^/#   /' "$out/checks.txt"
fi
[ -n "$stopped" ] && log "stopped early: $stopped"
[ -s "$out/repro.sql" ] && log "reproductions: $out/repro.sql (psql, as a superuser, in a database made by setup.sql)"

summary="fuzz: $total_calls calls, $ncrashes crashes, $ninternal internal errors"
if [ "${FUZZ_SELFTEST:-}" = 1 ]; then
	missed=""
	caught=$(awk -F '\t' '$1 == "fuzz_attacker" && $2 > 0 { print $2 }' "$rec/crashes.tsv" |
		while read -r line; do sed -n "${line}p" "$out/fuzz_attacker.tsv"; done | grep -c '_fuzz_selftest_crash')
	[ "${caught:-0}" -gt 0 ] || missed="$missed crash"
	grep -q '_fuzz_selftest_internal' "$out/internal_full.tsv" 2>/dev/null || missed="$missed internal-error"
	grep -q '_fuzz_selftest_escalate' "$out/checks.txt" || missed="$missed privilege"
	admin_psql -c "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)" >/dev/null 2>&1
	if [ -z "$missed" ]; then
		admin_psql -c "DROP DATABASE IF EXISTS $FUZZ_DB WITH (FORCE)" >/dev/null 2>&1
		[ -z "$keep_out" ] && rm -rf "$out"
		echo "ok - fuzz self-test: the crash, the internal error and the privilege were caught ($summary)"
		exit 0
	fi
	log "details in $out"
	echo "not ok - fuzz self-test: not caught:$missed ($summary)"
	exit 1
fi
[ "$check_failures" -gt 0 ] && summary="$summary, $check_failures failed checks"
[ -n "$stopped" ] && summary="$summary, stopped early"
admin_psql -c "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)" >/dev/null 2>&1
if [ "$ncrashes" -eq 0 ] && [ "$ninternal" -eq 0 ] && [ "$check_failures" -eq 0 ] && [ -z "$stopped" ] &&
	[ "$total_calls" -gt 0 ]; then
	admin_psql -c "DROP DATABASE IF EXISTS $FUZZ_DB WITH (FORCE)" >/dev/null 2>&1
	[ -z "$keep_out" ] && rm -rf "$out"
	echo "ok - $summary"
	exit 0
fi
log "details in $out; the database $FUZZ_DB is left as the last chunk left it"
echo "not ok - $summary"
exit 1
