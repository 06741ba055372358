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
