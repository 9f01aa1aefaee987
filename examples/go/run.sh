#!/usr/bin/env bash
# Builds the example against Debian's Go packages, offline, then runs it.
# examples/run.sh calls it with PGHOST, PGPORT, PGDATABASE and PGUSER set.
#
# Debian ships Go libraries as source under /usr/share/gocode (a GOPATH),
# not as a module cache, so the build uses GOPATH mode: no go.mod, no proxy.
# The caches live in a temporary directory, removed at the end.
set -uo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GO111MODULE=off GOPROXY=off GOFLAGS=
export GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="$work/cache"

echo "# $(go version)"
if ! go build -o "$work/example" . 2>"$work/build.log"; then
	sed 's/^/#   /' "$work/build.log"
	echo "not ok - build the example with pgx v4 from /usr/share/gocode"
	exit 1
fi
"$work/example"
