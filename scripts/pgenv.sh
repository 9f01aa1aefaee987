# Shared shell helpers for the test, demo and benchmark commands.
# Source it; it defines functions and changes nothing until they are called.
#
#   sf_install_deps     install Debian's PostgreSQL packages that are missing
#   sf_build            build and install the extension (PGXS)
#   sf_start_cluster    initdb + start a throwaway server on a Unix socket only
#   sf_stop_cluster     stop it by its pid and remove its directory
#
# The throwaway server runs as the "postgres" OS user when we are root
# (initdb and postgres refuse to run as root), listens on no TCP address and
# uses a socket directory of its own, so the system's default cluster is never
# touched.  After sf_start_cluster, PGHOST/PGPORT/PGUSER point at it.
#
# SF_PG_VERSION (default 15) is the PostgreSQL major version used, from
# Debian's packages (scripts/matrix.sh runs the suite on others).
# SF_PREFIX=/some/dir makes the functions use a private copy of that
# installation there (made on first use), so that two checkouts can build,
# install and test at the same time.  SF_SERVER_WRAPPER is a command the
# server is started under (scripts/valgrind.sh uses it).  SF_CC builds with
# another compiler (clang, say); PG_CFLAGS from the environment is added to
# PostgreSQL's own flags (.ci/run sets -Werror there).

SF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SF_PG_VERSION="${SF_PG_VERSION:-15}"
SF_PGBIN="/usr/lib/postgresql/$SF_PG_VERSION/bin"
export PG_CONFIG="${PG_CONFIG:-$SF_PGBIN/pg_config}"
SF_PACKAGES="postgresql-$SF_PG_VERSION postgresql-server-dev-$SF_PG_VERSION postgresql-$SF_PG_VERSION-pgtap libtap-parser-sourcehandler-pgtap-perl postgresql-$SF_PG_VERSION-cron postgresql-$SF_PG_VERSION-partman make gcc"

sf_log() { printf '==> %s\n' "$*" >&2; }

# Run a command as the cluster's OS user.
sf_as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

sf_install_deps() {
	local missing=""
	[ -x "$PG_CONFIG" ] || missing=1
	[ -x "$SF_PGBIN/postgres" ] || missing=1
	command -v pg_prove >/dev/null 2>&1 || missing=1
	[ -f "/usr/share/postgresql/$SF_PG_VERSION/extension/pgtap.control" ] || missing=1
	[ -f "/usr/share/postgresql/$SF_PG_VERSION/extension/pg_cron.control" ] || missing=1
	[ -f "/usr/share/postgresql/$SF_PG_VERSION/extension/pg_partman.control" ] || missing=1
	command -v make >/dev/null 2>&1 || missing=1
	command -v gcc >/dev/null 2>&1 || missing=1
	[ -z "$missing" ] && return 0
	# The packages' post-install scripts create a default cluster; it is not
	# started here (no init system) and we never use it.
	sf_apt_install $SF_PACKAGES
}

# sf_apt_install PACKAGE...: install Debian packages, quietly, as root (else
# say what is missing and fail)
sf_apt_install() {
	if [ "$(id -u)" != 0 ]; then
		sf_log "missing packages; run as root or install: $*"
		return 1
	fi
	sf_log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq "$@" >/dev/null
}

# sf_median: the median of the numbers on stdin, one per line
sf_median() {
	sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# Switch to the private copy of PostgreSQL named by SF_PREFIX, if any.
sf_use_prefix() {
	[ -n "${SF_PREFIX:-}" ] || return 0
	if [ ! -x "$SF_PREFIX/usr/lib/postgresql/$SF_PG_VERSION/bin/pg_config" ]; then
		sf_log "copying PostgreSQL $SF_PG_VERSION into $SF_PREFIX"
		mkdir -p "$SF_PREFIX/usr/lib/postgresql" "$SF_PREFIX/usr/share/postgresql" \
			"$SF_PREFIX/usr/include"
		cp -a "/usr/lib/postgresql/$SF_PG_VERSION" "$SF_PREFIX/usr/lib/postgresql/"
		cp -a "/usr/share/postgresql/$SF_PG_VERSION" "$SF_PREFIX/usr/share/postgresql/"
		cp -a /usr/include/postgresql "$SF_PREFIX/usr/include/"
		chmod -R a+rX "$SF_PREFIX"
	fi
	SF_PGBIN="$SF_PREFIX/usr/lib/postgresql/$SF_PG_VERSION/bin"
	export PG_CONFIG="$SF_PGBIN/pg_config"
}

sf_build() {
	sf_use_prefix
	local cc=()
	[ -z "${SF_CC:-}" ] || cc=(CC="$SF_CC" with_llvm=no)
	sf_log "building statusflow for PostgreSQL $SF_PG_VERSION${SF_CC:+ with $SF_CC}"
	make -C "$SF_ROOT" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
	if ! make -C "$SF_ROOT" -s PG_CONFIG="$PG_CONFIG" "${cc[@]}" >"$SF_ROOT/build.log" 2>&1; then
		cat "$SF_ROOT/build.log" >&2
		return 1
	fi
	rm -f "$SF_ROOT/build.log"
	make -C "$SF_ROOT" -s PG_CONFIG="$PG_CONFIG" "${cc[@]}" install >/dev/null
}

# sf_start_cluster [extra postgres -c options...]
sf_start_cluster() {
	sf_use_prefix
	SF_TMP="$(mktemp -d /tmp/statusflow.XXXXXX)"
	chmod 755 "$SF_TMP"
	if [ "$(id -u)" = 0 ]; then chown postgres "$SF_TMP"; fi
	local port=${SF_PORT:-54329}
	while [ -e "/tmp/.s.PGSQL.$port" ] || [ -e "$SF_TMP/.s.PGSQL.$port" ]; do port=$((port + 1)); done
	sf_as_pg "$SF_PGBIN/initdb" -D "$SF_TMP/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >"$SF_TMP/initdb.log" 2>&1 || {
		cat "$SF_TMP/initdb.log" >&2
		return 1
	}
	sf_as_pg touch "$SF_TMP/server.log"
	SF_OPTIONS=(-c listen_addresses='' -c shared_preload_libraries=pg_cron
		-c cron.database_name=postgres -c cron.use_background_workers=on
		-c max_worker_processes=16 -c max_connections=60
		-c max_prepared_transactions=10 -c lc_messages=C "$@")
	sf_as_pg ${SF_SERVER_WRAPPER:-} "$SF_PGBIN/postgres" -D "$SF_TMP/data" -k "$SF_TMP" -p "$port" \
		"${SF_OPTIONS[@]}" >>"$SF_TMP/server.log" 2>&1 &
	export PGHOST="$SF_TMP" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
	local i
	for i in $(seq 1 ${SF_START_TRIES:-100}); do
		if "$SF_PGBIN/pg_isready" -q 2>/dev/null; then
			SF_PID="$(head -n 1 "$SF_TMP/data/postmaster.pid")"
			sf_log "server pid $SF_PID listening on $SF_TMP port $port"
			return 0
		fi
		sleep 0.2
	done
	cat "$SF_TMP/server.log" >&2
	return 1
}

# Start the stopped (or crashed) server again, on the same directory and port.
sf_restart_cluster() {
	sf_as_pg ${SF_SERVER_WRAPPER:-} "$SF_PGBIN/postgres" -D "$SF_TMP/data" -k "$SF_TMP" -p "$PGPORT" \
		"${SF_OPTIONS[@]}" >>"$SF_TMP/server.log" 2>&1 &
	local i
	for i in $(seq 1 100); do
		if "$SF_PGBIN/pg_isready" -q 2>/dev/null; then
			SF_PID="$(head -n 1 "$SF_TMP/data/postmaster.pid")"
			return 0
		fi
		sleep 0.2
	done
	cat "$SF_TMP/server.log" >&2
	return 1
}

sf_stop_cluster() {
	[ -n "${SF_PID:-}" ] || return 0
	kill -INT "$SF_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 "$SF_PID" 2>/dev/null || break
		sleep 0.1
	done
	SF_PID=""
	rm -rf "$SF_TMP"
}
