#!/usr/bin/env bash
# statusflow from Node.js: node-postgres (pg-example.js) and Sequelize
# (sequelize-example.js).  examples/run.sh runs this with PGHOST, PGPORT,
# PGDATABASE, PGUSER=app and PGSUPERUSER set; it prints TAP lines.
set -uo pipefail
cd "$(dirname "$0")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Debian's nodejs package comes without npm; NodeSource's nodejs has it
# built in and conflicts with Debian's npm, so npm is not in debian-packages.
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends npm; } >"$log" 2>&1 || sed 's/^/# /' "$log"
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "not ok - npm is installed"
	exit 1
fi
echo "# node $(node --version), npm $(npm --version)"

# the exact versions of package-lock.json, from the npm registry
if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
	sed 's/^/# /' "$log"
	echo "not ok - npm ci"
	exit 1
fi

status=0
node pg-example.js || status=1
node sequelize-example.js || status=1
exit $status
