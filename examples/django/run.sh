#!/usr/bin/env bash
# The Django example, run by examples/run.sh with PGHOST, PGPORT, PGDATABASE
# and PGUSER (app) set: prints one TAP line per check, exits 0 if all pass.
set -uo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3  # Debian's, with python3-django and python3-psycopg2
export DJANGO_SETTINGS_MODULE=project.settings
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
MAIL_DIR="$(mktemp -d)"
export MAIL_DIR
trap 'rm -rf "$MAIL_DIR"' EXIT

failed=0
tap() {
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
	else
		echo "not ok - $2"
		sed 's/^/# /' <<<"$3"
		failed=1
	fi
}

echo "# Django $($PY -c 'import django; print(django.get_version())'), psycopg2 $($PY -c 'import psycopg2; print(psycopg2.__version__)')"

out=$($PY manage.py check 2>&1)
tap $? "manage.py check finds no problem" "$out"

out=$($PY manage.py makemigrations --check --dry-run 2>&1)
tap $? "makemigrations --check: nothing to do for the unmanaged model" "$out"

out=$($PY manage.py sqlmigrate invitations 0001 2>&1)
status=$?
if [ $status -eq 0 ] && ! grep -qi 'create table' <<<"$out"; then status=0; else status=1; fi
tap $status "sqlmigrate invitations 0001 runs no SQL: the table stays schema.sql's" "$out"

$PY checks.py || failed=1
exit $failed
