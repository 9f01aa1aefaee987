#!/usr/bin/env bash
# Render the diagrams of workflows into docs/diagrams: <workflow>.dot and
# .mmd (statusflow.to_dot() and to_mermaid()) and .svg (Graphviz).
#
#   bash docs/render_diagrams.sh [--setup FILE.sql]... [--sql COMMAND]...
#                                [--query QUERY] [--out DIR]
#
# Like the demo, it installs what is missing (Graphviz too), builds and
# installs the extension and starts a throwaway server, which it stops when
# done; docs/diagrams.sh does the drawing and says what the options mean.
# By default it draws every workflow of the demo's scripts.  For the presets
# alone, for example:
#   bash docs/render_diagrams.sh \
#       --sql "SELECT statusflow.install_preset(preset) FROM statusflow.presets()" \
#       --out /tmp/diagrams
# scripts/test.sh runs "docs/diagrams.sh --check": the committed sources must
# match what the extension draws.
set -euo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"

if ! command -v dot >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		sf_log "Graphviz is missing: apt-get install -y graphviz"
		exit 1
	fi
	sf_log "installing graphviz"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
sf_install_deps
sf_build
trap sf_stop_cluster EXIT
sf_start_cluster -c fsync=off
bash "$SF_ROOT/docs/diagrams.sh" --write "$@"
