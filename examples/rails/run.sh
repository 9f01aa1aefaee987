#!/usr/bin/env bash
# statusflow with ActiveRecord 6.1 (Debian 12's ruby-activerecord and
# ruby-pg): run by examples/run.sh, which sets PGHOST, PGPORT, PGDATABASE,
# PGUSER=app and PGSUPERUSER.  Prints TAP lines; exits 0 if all pass.
set -euo pipefail
cd "$(dirname "$0")"
exec ruby example.rb
