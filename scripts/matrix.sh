#!/usr/bin/env bash
# Run the whole test suite (scripts/test.sh) on other PostgreSQL versions,
# each in a Debian chroot that has it:
#
#   bash scripts/matrix.sh prepare [VERSION...]   make the chroots
#   bash scripts/matrix.sh run [VERSION...]       make them if needed, then test
#
# VERSION defaults to "17 18": 17 comes from Debian 13 (trixie), 18 from
# Debian unstable (sid), both through the mirror the machine's own apt
# sources name.  Needs root (debootstrap, chroot, mount).  SF_MATRIX_DIR
# (default /var/tmp/statusflow-matrix) keeps the chroots between runs;
# SF_DUMP_FROM names a dump (pg_dump -Fc) taken by another version, which
# each version restores and checks too; CITUS_SRC (see scripts/citus.sh) is
# copied into each chroot, where the suite builds Citus from it and runs the
# Citus suite, or says it skipped it for a version that Citus does not
# build for.  A version whose packages cannot be
# fetched is skipped, with a banner saying so; anything else that goes
# wrong is a failure.  "run" ends with one line "N passed, N failed" over
# all versions, and each version's log is in $SF_MATRIX_DIR/VERSION.log.
set -uo pipefail
SF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MATRIX_DIR="${SF_MATRIX_DIR:-/var/tmp/statusflow-matrix}"

say() { printf '==> %s\n' "$*" >&2; }

# Debian suite that ships a PostgreSQL major version.
suite_of() {
	case "$1" in
		17) echo trixie ;;
		18) echo sid ;;
		*) return 1 ;;
	esac
}

# The Debian mirror the host's apt sources use (deb822 or one-line format).
debian_mirror() {
	local uri
	uri=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ')
	echo "${uri:-http://deb.debian.org/debian}"
}

# Loud notice of a version that could not be tested.
skip_banner() {
	local version=$1 why=$2
	{
		echo "################################################################"
		echo "#  SKIPPED: PostgreSQL $version was NOT tested."
		echo "#  $why"
		echo "################################################################"
	} >&2
}

# Mount what the server needs inside the chroot (once).
mount_chroot() {
	local dir=$1
	mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
	mkdir -p "$dir/dev/shm"
	mountpoint -q "$dir/dev/shm" || mount -t tmpfs -o mode=1777 shm "$dir/dev/shm"
}

unmount_chroot() {
	local dir=$1
	! mountpoint -q "$dir/dev/shm" || umount "$dir/dev/shm"
	! mountpoint -q "$dir/proc" || umount "$dir/proc"
}

# Make the chroot of a version with its packages; status 2 when they cannot
# be fetched (the version is skipped), 1 on any other failure.
prepare() {
	local version=$1 suite dir packages
	suite=$(suite_of "$version") || {
		say "no Debian suite is known for PostgreSQL $version"
		return 1
	}
	dir="$MATRIX_DIR/$suite"
	packages="postgresql-$version postgresql-server-dev-$version postgresql-$version-pgtap"
	packages+=" postgresql-$version-cron postgresql-$version-partman"
	packages+=" libtap-parser-sourcehandler-pgtap-perl make gcc"
	if [ ! -x "$dir/usr/lib/postgresql/$version/bin/pg_config" ]; then
		if ! command -v debootstrap >/dev/null; then
			apt-get install -y -qq debootstrap >/dev/null 2>&1 ||
				{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq debootstrap >/dev/null 2>&1; } ||
				return 2
		fi
		if [ ! -f "$dir/.debootstrapped" ]; then
			say "debootstrap $suite into $dir"
			rm -rf "$dir"
			mkdir -p "$dir"
			debootstrap --variant=minbase "$suite" "$dir" "$(debian_mirror)" \
				>"$MATRIX_DIR/$suite.debootstrap.log" 2>&1 || return 2
			touch "$dir/.debootstrapped"
		fi
		# sid's Release file on a snapshot mirror may have expired
		echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99statusflow"
		# no package starts a service (a default cluster) in the chroot
		printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
		chmod 755 "$dir/usr/sbin/policy-rc.d"
		mount_chroot "$dir"
		say "installing PostgreSQL $version in $dir"
		chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
			sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages" \
			>"$MATRIX_DIR/$suite.apt.log" 2>&1 || return 2
	fi
	mount_chroot "$dir"
	return 0
}

# Prepare every version at once; the statuses land in $MATRIX_DIR/VERSION.prepared.
prepare_all() {
	local version
	mkdir -p "$MATRIX_DIR"
	for version in "$@"; do
		(
			prepare "$version"
			echo $? >"$MATRIX_DIR/$version.prepared"
		) &
	done
	wait
}

# Copy the checkout into the chroot and run the suite there; prints its
# last line ("N passed, N failed").
run_version() {
	local version=$1 dir started
	dir="$MATRIX_DIR/$(suite_of "$version")"
	rm -rf "$dir/sf"
	mkdir -p "$dir/sf"
	git -C "$SF_ROOT" ls-files -z | (cd "$SF_ROOT" && tar --null -T - -cf -) | tar -xf - -C "$dir/sf"
	chmod -R a+rX "$dir/sf"
	local dump=()
	if [ -n "${SF_DUMP_FROM:-}" ]; then
		cp "$SF_DUMP_FROM" "$dir/sf/other-version.dump"
		chmod a+r "$dir/sf/other-version.dump"
		dump=(SF_DUMP_FROM=/sf/other-version.dump)
	fi
	# a chroot prepared by an earlier run may have lost its mounts
	local citus=()
	if [ -n "${CITUS_SRC:-}" ]; then
		# the Citus source, for the suite's Citus run (skipped by a version it
		# does not build for)
		rm -rf "$dir/citus-src"
		mkdir -p "$dir/citus-src"
		if [ -d "$CITUS_SRC" ]; then
			cp -a "$CITUS_SRC/." "$dir/citus-src/"
			citus=(CITUS_SRC=/citus-src)
		else
			cp "$CITUS_SRC" "$dir/citus-src/"
			citus=(CITUS_SRC="/citus-src/$(basename "$CITUS_SRC")")
		fi
	fi
	mount_chroot "$dir"
	started=$(date +%s)
	say "PostgreSQL $version: the whole suite in $dir"
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		SF_PG_VERSION="$version" PG_CFLAGS="${PG_CFLAGS:-}" "${dump[@]}" "${citus[@]}" \
		bash /sf/scripts/test.sh >"$MATRIX_DIR/$version.log" 2>&1
	say "PostgreSQL $version: $(tail -n 1 "$MATRIX_DIR/$version.log") in $(($(date +%s) - started)) s"
}

main() {
	local command=${1:-run}
	shift || true
	local versions=("$@")
	[ ${#versions[@]} -gt 0 ] || versions=(17 18)
	if [ "$(id -u)" != 0 ]; then
		say "scripts/matrix.sh needs root (debootstrap, chroot, mount)"
		echo "0 passed, 1 failed"
		return 1
	fi
	case "$command" in
		prepare)
			prepare_all "${versions[@]}"
			return 0
			;;
		run) ;;
		*)
			say "usage: scripts/matrix.sh prepare|run [VERSION...]"
			return 1
			;;
	esac
	local todo=() version status passed=0 failed=0 line
	for version in "${versions[@]}"; do
		[ -f "$MATRIX_DIR/$version.prepared" ] && [ "$(cat "$MATRIX_DIR/$version.prepared")" = 0 ] ||
			todo+=("$version")
	done
	[ ${#todo[@]} -eq 0 ] || prepare_all "${todo[@]}"
	for version in "${versions[@]}"; do
		status=$(cat "$MATRIX_DIR/$version.prepared" 2>/dev/null || echo 1)
		if [ "$status" = 2 ]; then
			skip_banner "$version" "Its Debian packages could not be fetched (logs in $MATRIX_DIR)."
			continue
		elif [ "$status" != 0 ]; then
			say "PostgreSQL $version: the chroot could not be made (logs in $MATRIX_DIR)"
			failed=$((failed + 1))
			continue
		fi
		run_version "$version"
		line=$(tail -n 1 "$MATRIX_DIR/$version.log")
		if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			passed=$((passed + BASH_REMATCH[1]))
			failed=$((failed + BASH_REMATCH[2]))
			[ "${BASH_REMATCH[2]}" = 0 ] || tail -n 300 "$MATRIX_DIR/$version.log" >&2
		else
			tail -n 100 "$MATRIX_DIR/$version.log" >&2
			failed=$((failed + 1))
		fi
		unmount_chroot "$MATRIX_DIR/$(suite_of "$version")"
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"
