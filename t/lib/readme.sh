# t/lib/readme.sh: read a recipe out of README.md, so a test runs the text a
# reader copies and not a private copy of it (sourced).
#
# readme_block MARKER prints the body of the first fenced block (``` with
# any language tag) after the first line of README.md that contains MARKER;
# the test fails loudly (exit 1, a message on stderr) when there is none.
# README.md is found next to t/, so callers may run from anywhere (the
# suites that act as the cluster's OS user work in a directory it can read).

README_MD=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/README.md

readme_block() {
	python3 - "$README_MD" "$1" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
marker = sys.argv[2]
start = text.find(marker)
if start < 0:
    sys.exit("README.md has no line with %r" % marker)
fence = text.find("\n```", start)
if fence < 0:
    sys.exit("README.md has no fenced block after %r" % marker)
begin = text.index("\n", fence + 1) + 1
end = text.find("\n```", begin - 1)
print(text[begin:end + 1], end="")
PY
}
