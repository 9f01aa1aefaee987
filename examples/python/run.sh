#!/usr/bin/env bash
# The Python example (GUIDE.md): psycopg 3, SQLAlchemy and Alembic.  Run by
# examples/run.sh with PGHOST, PGPORT, PGDATABASE, PGUSER=app and
# PGSUPERUSER set; prints TAP lines.
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONDONTWRITEBYTECODE=1     # no __pycache__ in the work tree
PYTHON=/usr/bin/python3              # Debian's, with Debian's packages

# The application keeps a table of its own (sent_emails, made by create_all
# and followed by Alembic) next to the workflow's: let app create tables.
psql -X -q -U "$PGSUPERUSER" -c "GRANT CREATE ON SCHEMA public TO app" || exit 1

# PgBouncer in transaction mode in front of the server, on a socket of its
# own, with one server connection: for the prepared-statement trap.
bouncer_dir=""
bouncer_pid=""
stop_bouncer() {
	[ -n "$bouncer_pid" ] && kill "$bouncer_pid" 2>/dev/null
	[ -n "$bouncer_dir" ] && rm -rf "$bouncer_dir"
}
trap stop_bouncer EXIT
bouncer=$(PATH="$PATH:/usr/sbin" command -v pgbouncer)
if [ -n "$bouncer" ]; then
	bouncer_dir=$(mktemp -d /tmp/statusflow-pgbouncer.XXXXXX)
	chmod 755 "$bouncer_dir"
	cat >"$bouncer_dir/pgbouncer.ini" <<-INI
	[databases]
	$PGDATABASE = host=$PGHOST port=$PGPORT dbname=$PGDATABASE
	[pgbouncer]
	unix_socket_dir = $bouncer_dir
	listen_port = $PGPORT
	auth_type = trust
	auth_file = $bouncer_dir/users.txt
	pool_mode = transaction
	default_pool_size = 1
	logfile = $bouncer_dir/pgbouncer.log
	pidfile = $bouncer_dir/pgbouncer.pid
	INI
	echo '"app" ""' >"$bouncer_dir/users.txt"
	as_owner=()
	if [ "$(id -u)" = 0 ]; then   # pgbouncer does not run as root
		chown -R postgres "$bouncer_dir"
		as_owner=(runuser -u postgres --)
	fi
	"${as_owner[@]}" "$bouncer" -d "$bouncer_dir/pgbouncer.ini" &&
		for _ in $(seq 1 50); do
			[ -S "$bouncer_dir/.s.PGSQL.$PGPORT" ] && [ -s "$bouncer_dir/pgbouncer.pid" ] && break
			sleep 0.1
		done
	if [ -S "$bouncer_dir/.s.PGSQL.$PGPORT" ]; then
		bouncer_pid=$(cat "$bouncer_dir/pgbouncer.pid")
		export PGBOUNCER_HOST="$bouncer_dir" PGBOUNCER_PORT="$PGPORT"
	else
		echo "# PgBouncer did not start:"
		sed 's/^/# /' "$bouncer_dir/pgbouncer.log" 2>/dev/null
	fi
fi

"$PYTHON" example.py
