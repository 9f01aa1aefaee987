# Citus helpers: build Citus from source, run a local three-node cluster.
# Source it (after or instead of scripts/pgenv.sh, which it sources), or run
# it with a subcommand:
#
#   bash scripts/citus.sh build          build and install Citus unless installed
#   bash scripts/citus.sh run CMD...     start a cluster, run CMD with PGHOST/PGPORT
#                                        set to the coordinator, stop the cluster
#   bash scripts/citus.sh start          start a cluster and leave it running;
#                                        prints the file to source for its variables
#   bash scripts/citus.sh stop DIR       stop the cluster whose directory is DIR
#
# Functions, once sourced:
#
#   sf_citus_installed   true when citus.so and citus.control are in PG_CONFIG's
#                        installation
#   sf_citus_versions    the PostgreSQL major versions CITUS_SRC builds for
#   sf_citus_deps        install the Debian packages the build needs (root)
#   sf_citus_build       build and install Citus from CITUS_SRC, unless installed
#   sf_citus_start       start a coordinator and two workers, register them
#   sf_citus_add_worker  start one more worker and add it to the cluster
#   sf_citus_stop        stop them and remove their directory (idempotent)
#
# CITUS_SRC is a Citus source tarball (.tar.gz), an unpacked source tree, or a
# directory holding one tarball citus-<version>.tar.gz (such as
# ../shared/vendor).  CITUS_PATCH names patches (space-separated) to apply to
# the source; without it, the files citus-<version>-*.patch next to the
# tarball are applied (a patch already applied is skipped).  The build
# installs into the PostgreSQL installation of PG_CONFIG, that is the private
# copy under SF_PREFIX when SF_PREFIX is set.
#
# The cluster: three data directories under one temporary directory, the
# nodes running as the "postgres" OS user when we are root, each listening on
# 127.0.0.1 only (Citus nodes talk over TCP) and on a Unix socket in that
# directory, with shared_preload_libraries=citus.  Ports are the first free
# ones from SF_CITUS_PORT (default 57630) up.  After sf_citus_start:
#   PGHOST PGPORT PGUSER PGDATABASE   the coordinator (Unix socket)
#   SF_CITUS_DIR                      the cluster's directory (sockets, logs)
#   SF_CITUS_PORTS                    "coordinator worker1 worker2"
#   SF_CITUS_WORKER_PORTS             "worker1 worker2"
# Nodes talk to each other without TLS (citus.node_conninfo, default
# 'sslmode=disable': loopback only); SF_CITUS_OPTIONS adds postgres -c
# options to every node, as do the arguments of sf_citus_start.

source "$(dirname "${BASH_SOURCE[0]}")/pgenv.sh"

# Debian packages Citus's build needs beyond PostgreSQL's (pgenv.sh's
# sf_install_deps): zstd.h (PostgreSQL's pg_config.h defines HAVE_LIBZSTD,
# which Citus's columnar code tests), gssapi.h (libpq-be.h includes it:
# ENABLE_GSS), OpenSSL (Citus's automatic TLS setup), patch.  lz4 and libcurl
# are configured out.
SF_CITUS_PACKAGES="libzstd-dev libkrb5-dev libssl-dev libicu-dev patch"

sf_citus_installed() {
	[ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ] &&
		[ -f "$("$PG_CONFIG" --sharedir)/extension/citus.control" ]
}

sf_citus_deps() {
	local missing="" pkg
	for pkg in $SF_CITUS_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	sf_log "Citus's build needs:$missing"
	sf_apt_install $missing
}

# The tarball CITUS_SRC names: itself, or the one citus-*.tar.gz in it.
sf_citus_tarball() {
	local src="$1" found
	case "$src" in
	*.tar.gz | *.tgz) echo "$src" ;;
	*)
		[ -d "$src" ] && [ ! -f "$src/configure" ] || return 1
		found=$(ls "$src"/citus-*.tar.gz 2>/dev/null)
		[ "$(echo "$found" | grep -c .)" = 1 ] || return 1
		echo "$found"
		;;
	esac
}

# The PostgreSQL major versions the Citus of CITUS_SRC builds for, as its
# configure script checks them (one per line; nothing when it is unreadable).
sf_citus_versions() {
	local tarball
	if tarball=$(sf_citus_tarball "$CITUS_SRC"); then
		tar xzf "$tarball" --wildcards -O '*/configure' 2>/dev/null
	else
		cat "$CITUS_SRC/configure" 2>/dev/null
	fi | grep -m 1 'is not compatible' -B 3 | grep -oE "version_num\" != '[0-9]+'" |
		grep -oE '[0-9]+'
}

# Apply each patch to the source tree in $1, unless it is applied already.
sf_citus_patch() {
	local tree="$1" patch
	shift
	for patch in "$@"; do
		if patch -d "$tree" -p1 -R -s -f --dry-run <"$patch" >/dev/null 2>&1; then
			sf_log "already applied: $(basename "$patch")"
		elif patch -d "$tree" -p1 -s -f --no-backup-if-mismatch <"$patch"; then
			sf_log "applied $(basename "$patch")"
		else
			sf_log "cannot apply $patch"
			return 1
		fi
	done
}

# sf_citus_build: build and install Citus from CITUS_SRC unless installed.
sf_citus_build() {
	sf_use_prefix
	if sf_citus_installed; then
		sf_log "Citus is installed in $("$PG_CONFIG" --pkglibdir)"
		return 0
	fi
	if [ -z "${CITUS_SRC:-}" ]; then
		sf_log "Citus is not installed and CITUS_SRC is not given"
		return 1
	fi
	sf_citus_deps || return 1
	local build tarball tree patch patches=() started=$SECONDS
	build=$(mktemp -d /var/tmp/citus-build.XXXXXX)
	if tarball=$(sf_citus_tarball "$CITUS_SRC"); then
		tar xzf "$tarball" -C "$build" || { rm -rf "$build"; return 1; }
		tree=$(ls -d "$build"/*/ | head -n 1)
		if [ -z "${CITUS_PATCH:-}" ]; then
			local version
			version=$(basename "$tarball" .tar.gz)
			version=${version%.tgz}
			for patch in "$(dirname "$tarball")/$version"-*.patch; do
				[ -f "$patch" ] && patches+=("$patch")
			done
		fi
	elif [ -f "$CITUS_SRC/configure" ]; then
		tree="$build/citus"
		cp -a "$CITUS_SRC" "$tree"
	else
		sf_log "CITUS_SRC=$CITUS_SRC is neither a Citus tarball, a directory with one, nor a source tree"
		rm -rf "$build"
		return 1
	fi
	[ -z "${CITUS_PATCH:-}" ] || read -r -a patches <<<"$CITUS_PATCH"
	sf_log "building Citus from $CITUS_SRC for $("$PG_CONFIG" --version)"
	if ! sf_citus_patch "$tree" "${patches[@]}" ||
		! (cd "$tree" && ./configure PG_CONFIG="$PG_CONFIG" --without-libcurl --without-lz4 \
			>"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }) ||
		! (cd "$tree" && make -j"$(nproc)" with_llvm=no >"$build/make.log" 2>&1 &&
			make with_llvm=no install >>"$build/make.log" 2>&1 ||
			{ tail -n 40 "$build/make.log" >&2; exit 1; }); then
		rm -rf "$build"
		return 1
	fi
	rm -rf "$build"
	sf_log "Citus built and installed in $((SECONDS - started)) s"
	sf_citus_installed
}

# True when something listens on TCP 127.0.0.1:$1 or a socket of that port exists.
sf_citus_port_used() {
	[ -e "/tmp/.s.PGSQL.$1" ] || [ -e "/var/run/postgresql/.s.PGSQL.$1" ] ||
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# sf_citus_start_node NAME FIRST_PORT: initdb and start one node on the first
# free port from FIRST_PORT (the next one when another server takes it
# meanwhile); sets SF_CITUS_NODE_PORT.
sf_citus_start_node() {
	local name="$1" port="$2" data="$SF_CITUS_DIR/$1" log="$SF_CITUS_DIR/$1.log" tries pid i
	sf_as_pg "$SF_PGBIN/initdb" -D "$data" -A trust -U postgres --no-sync -E UTF8 --locale=C \
		>"$SF_CITUS_DIR/$name.initdb.log" 2>&1 || {
		cat "$SF_CITUS_DIR/$name.initdb.log" >&2
		return 1
	}
	sf_as_pg touch "$log"
	for tries in 1 2 3 4 5 6 7 8 9 10; do
		while sf_citus_port_used "$port"; do port=$((port + 1)); done
		sf_as_pg "$SF_PGBIN/postgres" -D "$data" -k "$SF_CITUS_DIR" -p "$port" \
			"${SF_CITUS_NODE_OPTIONS[@]}" >>"$log" 2>&1 &
		pid=$!
		for i in $(seq 1 150); do
			if "$SF_PGBIN/pg_isready" -q -h "$SF_CITUS_DIR" -p "$port" 2>/dev/null; then
				SF_CITUS_NODE_PORT=$port
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null ||
			! grep -q 'could not bind\|could not create any TCP/IP sockets' "$log"; then
			break
		fi
		port=$((port + 1))
	done
	sf_log "node $name did not start:"
	cat "$log" >&2
	return 1
}

# sf_citus_start [extra postgres -c options...]
sf_citus_start() {
	sf_use_prefix
	if ! sf_citus_installed; then
		sf_log "Citus is not installed in $("$PG_CONFIG" --pkglibdir)"
		return 1
	fi
	SF_CITUS_DIR="$(mktemp -d /tmp/statusflow-citus.XXXXXX)"
	chmod 755 "$SF_CITUS_DIR"
	if [ "$(id -u)" = 0 ]; then chown postgres "$SF_CITUS_DIR"; fi
	SF_CITUS_NODE_OPTIONS=(-c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus
		-c "citus.node_conninfo=${SF_CITUS_NODE_CONNINFO:-sslmode=disable}"
		-c max_connections=100 -c max_prepared_transactions=100 -c max_worker_processes=16
		-c lc_messages=C ${SF_CITUS_OPTIONS:-} "$@")
	local port=${SF_CITUS_PORT:-57630} name ports=()
	for name in coordinator worker1 worker2; do
		sf_citus_start_node "$name" "$port" || { sf_citus_stop; return 1; }
		ports+=("$SF_CITUS_NODE_PORT")
		port=$((SF_CITUS_NODE_PORT + 1))
	done
	export SF_CITUS_DIR SF_CITUS_PORTS="${ports[*]}" SF_CITUS_WORKER_PORTS="${ports[1]} ${ports[2]}"
	export PGHOST="$SF_CITUS_DIR" PGPORT="${ports[0]}" PGUSER=postgres PGDATABASE=postgres
	local p
	for p in "${ports[@]}"; do
		psql -X -q -v ON_ERROR_STOP=1 -p "$p" -c 'CREATE EXTENSION citus' >/dev/null ||
			{ sf_citus_stop; return 1; }
	done
	psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<-SQL || { sf_citus_stop; return 1; }
		SELECT pg_catalog.citus_set_coordinator_host('127.0.0.1', ${ports[0]});
		SELECT pg_catalog.citus_add_node('127.0.0.1', ${ports[1]});
		SELECT pg_catalog.citus_add_node('127.0.0.1', ${ports[2]});
	SQL
	{
		echo "export PGHOST='$PGHOST' PGPORT=$PGPORT PGUSER=postgres PGDATABASE=postgres"
		echo "export SF_CITUS_DIR='$SF_CITUS_DIR' SF_CITUS_PORTS='$SF_CITUS_PORTS'"
		echo "export SF_CITUS_WORKER_PORTS='$SF_CITUS_WORKER_PORTS'"
	} >"$SF_CITUS_DIR/env"
	sf_log "Citus cluster in $SF_CITUS_DIR: coordinator port ${ports[0]}, workers ${ports[1]} ${ports[2]}"
}

# sf_citus_add_worker NAME: start one more node in SF_CITUS_DIR (the
# first free port after the cluster's), create Citus there and add it to
# the cluster (citus_add_node on the coordinator); sets SF_CITUS_NODE_PORT.
sf_citus_add_worker() {
	local name="$1" last=${SF_CITUS_PORTS##* }
	sf_citus_start_node "$name" "$((last + 1))" || return 1
	SF_CITUS_PORTS="$SF_CITUS_PORTS $SF_CITUS_NODE_PORT"
	psql -X -q -v ON_ERROR_STOP=1 -p "$SF_CITUS_NODE_PORT" -c 'CREATE EXTENSION citus' >/dev/null &&
		psql -X -q -v ON_ERROR_STOP=1 >/dev/null \
			-c "SELECT pg_catalog.citus_add_node('127.0.0.1', $SF_CITUS_NODE_PORT)"
}

# sf_citus_stop [DIR]: stop the nodes of the cluster in DIR (default
# SF_CITUS_DIR) by their pids, wait for them, remove the directory.
sf_citus_stop() {
	local dir="${1:-${SF_CITUS_DIR:-}}" pidfile pid pids=() i
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	for pidfile in "$dir"/*/postmaster.pid; do
		[ -f "$pidfile" ] || continue
		pid=$(head -n 1 "$pidfile")
		if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then pids+=("$pid"); fi
	done
	for i in $(seq 1 150); do
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && break
			pid=""
		done
		[ -z "${pid:-}" ] && break
		sleep 0.1
	done
	rm -rf "$dir"
	[ "$dir" != "${SF_CITUS_DIR:-}" ] || SF_CITUS_DIR=""
	return 0
}

# subcommands when run rather than sourced
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	case "${1:-}" in
	build) sf_citus_build ;;
	start)
		sf_citus_build && sf_citus_start || exit 1
		echo "$SF_CITUS_DIR/env"
		;;
	stop)
		[ -n "${2:-}" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
		sf_citus_stop "$2"
		;;
	run)
		shift
		[ $# -gt 0 ] || { echo "usage: $0 run COMMAND..." >&2; exit 2; }
		sf_citus_build || exit 1
		trap sf_citus_stop EXIT
		sf_citus_start || exit 1
		"$@"
		;;
	*)
		echo "usage: $0 build | start | stop DIR | run COMMAND..." >&2
		exit 2
		;;
	esac
fi
