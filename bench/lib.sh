# bench/lib.sh: shared by the benchmark scripts (sourced).

# bench_write_section RESULTS SECTION_FILE HEADING [STOP]
# Replace the section of RESULTS that starts at the line "## HEADING" and
# runs up to STOP (the heading line of a subsection another script owns,
# e.g. "### Memory"), the next "## " heading or the end of the file; append
# SECTION_FILE's text when there is no such section yet.
bench_write_section() {
	local results=$1 section=$2 heading=$3 stop=${4:-}
	[ -f "$results" ] || printf '# Benchmark results\n\n' >"$results"
	python3 - "$results" "$section" "$heading" "$stop" <<'PY'
import re, sys
path, sec, heading, stop = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
text = open(path).read()
end = ('^' + re.escape(stop) + '|' if stop else '') + r'^## |\Z'
m = re.search('^## ' + re.escape(heading) + r'\n.*?(?=' + end + ')', text, flags=re.S | re.M)
if m:
    text = text[:m.start()] + sec + text[m.end():]
else:
    text = text.rstrip('\n') + '\n\n' + sec
open(path, 'w').write(text)
PY
}

# bench_use_cluster: use the server the PG* variables name when PGHOST or
# PGPORT is set, else start a throwaway cluster (t/lib/cluster.sh) and set
# own_cluster, which bench_cleanup reads.
own_cluster=
bench_use_cluster() {
	if [ -z "${PGHOST:-}${PGPORT:-}" ]; then
		cluster_start
		own_cluster=1
	fi
}

# bench_cleanup: for the EXIT trap -- drop the benchmark database $DB,
# remove $WORK, and stop the cluster bench_use_cluster started.
bench_cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$WORK"
	[ -n "$own_cluster" ] && cluster_stop
	true
}

# Session settings for serial and for parallel runs; client_min_messages
# hides to_tsvector's "word is too long to be indexed" notices.
SERIAL="-c max_parallel_workers_per_gather=0 -c client_min_messages=warning"
PARALLEL="-c max_parallel_workers_per_gather=2 -c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0 -c client_min_messages=warning"
