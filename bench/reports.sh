#!/usr/bin/env bash
# Reports benchmark: every report on two sizes of the same data, each timed
# against SELECT count(*) over its history table in the same run.
#
#   bash bench/reports.sh [--no-build] [--explain] [--summaries] [--deep] [--long]
#
# Environment: LARGE (1000000 entities, 10,000,000 history rows), SMALL
# (100000 entities, 1,000,000 rows), ROUNDS (3, medians), REPEAT (5: runs
# of each report from summaries per round, all in the median), PAIRS (21:
# pairs of runs from which the growth of those reports is measured side by
# side, small against each other size, after the rounds).  --explain also
# prints the plans of the main reports on the large table (EXPLAIN ANALYZE
# through auto_explain).  --summaries keeps summaries of the tables
# (enable_summaries(), timed), with a tail of TAIL (1000) history rows not
# folded yet, and times the reports they serve both ways, side by side:
# from the history alone and from the summaries plus the tail.  --deep
# adds a third table, "deep": the small one's entities with three times
# their history (30 rows each on average), compared with the small one (the
# large one has more history and more entities; the deep one more history
# only).  --long adds a table "long": three years of the small one's
# traffic (three times its entities, starting over three years instead of
# one), the way a history grows in time.  The sizes are generated first,
# then measured in turn, a round of each at a time.  Not run by CI; about
# 15 minutes on 2 cores at the default sizes, 20 with --deep, 30 with both.
set -euo pipefail
source "$(dirname "$0")/../scripts/pgenv.sh"

LARGE=${LARGE:-1000000}
SMALL=${SMALL:-100000}
ROUNDS=${ROUNDS:-3}
REPEAT=${REPEAT:-5}
PAIRS=${PAIRS:-21}
BENCH="$SF_ROOT/bench"
TAIL=${TAIL:-1000}
build=1
explain=0
summaries=0
# each size: its entities and depth (history rows per entity, in tens)
sizes="small large"
declare -A size_entities=([small]=$SMALL [large]=$LARGE [deep]=$SMALL [long]=$((3 * SMALL)))
declare -A size_depth=([small]=1 [large]=1 [deep]=3 [long]=1)
declare -A size_years=([small]=1 [large]=1 [deep]=1 [long]=3)
for arg in "$@"; do
	case "$arg" in
		--no-build) build=0 ;;
		--explain) explain=1 ;;
		--summaries) summaries=1 ;;
		--deep) sizes+=" deep" ;;
		--long) sizes+=" long" ;;
		*) echo "usage: $0 [--no-build] [--explain] [--summaries] [--deep] [--long]" >&2; exit 2 ;;
	esac
done

sf_install_deps
[ "$build" = 0 ] || sf_build
trap sf_stop_cluster EXIT
sf_start_cluster -c shared_buffers=2GB -c work_mem=64MB -c max_wal_size=8GB \
	-c checkpoint_timeout=30min -c synchronous_commit=off -c fsync=off \
	-c autovacuum=off -c max_parallel_workers_per_gather=2
"$SF_PGBIN/createdb" bench
export PGDATABASE=bench
psql -X -q -c 'CREATE EXTENSION statusflow'

span() { [ "$1" = 1 ] && echo "over a year" || echo "over $1 years"; }

declare -A results
declare -A folds
for size in $sizes; do
	entities=${size_entities[$size]}
	depth=${size_depth[$size]}
	years=${size_years[$size]}
	sf_log "generating $size: $entities entities, $((entities * 10 * depth)) history rows, $(span "$years")"
	start=$(date +%s)
	psql -X -q -v entities="$entities" -v depth="$depth" -v years="$years" -v tbl="bench_$size" \
		-v tbl_history="bench_${size}_history" -f "$BENCH/gen_reports.sql" >/dev/null
	sf_log "generated in $(($(date +%s) - start)) s"
	if [ "$summaries" = 1 ]; then
		folds[$size]=$(psql -X -q -v tbl="bench_$size" -v tbl_history="bench_${size}_history" \
			-v tail="$TAIL" -f "$BENCH/reports_summarize.sql" | grep '|')
		sf_log "summaries: $(echo "${folds[$size]}" | tr '\n' ' ')"
	fi
done

# the two sizes measured in turn, a round of each at a time (each after a
# warm-up run), so that both see the same machine and caches; every report
# line keeps its place (NR) from round to round
declare -A rounds
for round in $(seq 1 "$ROUNDS"); do
	for size in $sizes; do
		sf_log "measuring $size, round $round of $ROUNDS"
		rounds[$size]+=$(psql -X -q -v tbl="bench_$size" -v rounds=1 -v repeat="$REPEAT" \
			-f "$BENCH/reports_measure.sql" |
			awk -F'|' '{print NR "|" $0}')$'\n'
	done
done

# per report line, the median of each round's milliseconds (from the
# history, from the summaries), and their ratios to the median count(*)
medians() {
	echo "$1" | awk -F'|' 'NF {print $1 "|h|" $3; if ($5 != "") print $1 "|s|" $5; names[$1] = $2}
		END {for (i in names) print i "|n|" names[i]}' |
		sort -t '|' -k1,1n -k2,2 -k3,3g |
		awk -F'|' '
			function flush() { if (key != "") med[key] = vals[int((n + 1) / 2)] }
			$2 == "n" {name[$1] = $3; next}
			$1 "|" $2 != key {flush(); key = $1 "|" $2; n = 0}
			{vals[++n] = $3}
			END {
				flush()
				for (i = 1; i in name; i++) {
					h = med[i "|h"]; c = med[1 "|h"]; s = ""; r = ""
					if ((i "|s") in med) { s = med[i "|s"]; r = sprintf("%.2f", s / c) }
					printf "%s|%s|%.2f|%s|%s\n", name[i], h, h / c, s, r
				}
			}'
}
for size in $sizes; do
	results[$size]=$(medians "${rounds[$size]}")
done

history_rows() { psql -X -At -c "SELECT to_char(count(*), 'FM999,999,999') FROM bench_${1}_history"; }

# the table of every report on size $1 against size $2
compare() {
	local a=$1 b=$2
	if [ "$summaries" = 1 ]; then
		printf '%-30s %22s %22s %22s %22s %8s %8s\n' report "$a history" "$a summaries" \
			"$b history" "$b summaries" "growth" "growth"
		printf '%-30s %22s %22s %22s %22s %8s %8s\n' "" "ms (x count)" "ms (x count)" \
			"ms (x count)" "ms (x count)" history summ.
		join -t '|' -j 1 -o '1.1,1.2,1.3,1.4,1.5,2.2,2.3,2.4,2.5' \
			<(echo "${results[$a]}" | awk -F'|' '{printf "%02d %s|%s|%s|%s|%s\n", NR, $1, $2, $3, $4, $5}') \
			<(echo "${results[$b]}" | awk -F'|' '{printf "%02d %s|%s|%s|%s|%s\n", NR, $1, $2, $3, $4, $5}') |
			awk -F'|' '{
				s1 = $4 == "" ? "-" : sprintf("%.1f (%.2f)", $4, $5)
				s2 = $8 == "" ? "-" : sprintf("%.1f (%.2f)", $8, $9)
				g2 = $8 == "" ? "-" : sprintf("%.2fx", $8 / $4)
				printf "%-30s %22s %22s %22s %22s %7.2fx %8s\n", substr($1, 4),
					sprintf("%.1f (%.2f)", $2, $3), s1, sprintf("%.1f (%.2f)", $6, $7), s2,
					$6 / $2, g2 }'
	else
		printf '%-30s %12s %9s %12s %9s %8s\n' report "$a ms" "x count" "$b ms" "x count" growth
		join -t '|' -j 1 -o '1.1,1.2,1.3,2.2,2.3' \
			<(echo "${results[$a]}" | awk -F'|' '{printf "%02d %s|%s|%s\n", NR, $1, $2, $3}') \
			<(echo "${results[$b]}" | awk -F'|' '{printf "%02d %s|%s|%s\n", NR, $1, $2, $3}') |
			awk -F'|' '{printf "%-30s %12.1f %9.2f %12.1f %9.2f %7.1fx\n", substr($1, 4), $2, $3, $4, $5, $4 / $2}'
	fi
}

echo
echo "statusflow reports benchmark: medians of $ROUNDS rounds ($REPEAT runs a round from summaries), work_mem 64MB, 2 parallel workers"
for size in $sizes; do
	echo "$size: ${size_entities[$size]} entities, $(history_rows "$size") history rows, $(span "${size_years[$size]}")"
done
if [ "$summaries" = 1 ]; then
	for size in $sizes; do
		echo "$size, summaries: $(echo "${folds[$size]}" | sed 's/|/: /' | paste -sd ';' | sed 's/;/; /g')"
	done
	echo "ms: median milliseconds; x count: ratio to count(*) over the history in the same round;"
	echo "history: the report from the history alone; summaries: from the summaries plus the tail"
fi
compare small large
if [[ " $sizes " == *" deep "* ]]; then
	echo
	echo "the same entities with three times the history:"
	compare small deep
fi
if [[ " $sizes " == *" long "* ]]; then
	echo
	echo "three years of the same traffic (three times the history, the entities and the span):"
	compare small long
fi

# the growth of the reports from summaries, each size against the small one,
# measured side by side (bench/reports_growth.sql): PAIRS pairs of runs
if [ "$summaries" = 1 ]; then
	for size in $sizes; do
		[ "$size" != small ] || continue
		sf_log "measuring the growth from small to $size"
		echo
		echo "growth of the reports from summaries, small to $size, measured side by side ($PAIRS pairs of runs, the order alternating):"
		printf '%-30s %12s %12s %8s\n' report "small ms" "$size ms" growth
		psql -X -q -v tbl=bench_small -v other="bench_$size" -v pairs="$PAIRS" \
			-f "$BENCH/reports_growth.sql" |
			awk -F'|' '{printf "%-30s %12.1f %12.1f %7.2fx\n", $1, $2, $3, $4}'
	done
fi

if [ "$explain" = 1 ]; then
	sf_log "plans of the main reports on the large table"
	psql -X -q -v tbl=bench_large -f "$BENCH/reports_explain.sql"
fi
