#!/bin/bash
# crawler/t/extract_test.sh: builds t/extract_test with make -C crawler
# (extract.c's main-content rules against the fixture pages in t/pages/,
# AddressSanitizer + UBSan, no network, no database) and runs it.  Prints TAP lines and
# "N passed, N failed"; exits non-zero on any failure or sanitizer report.
set -u
here=$(cd "$(dirname "$0")" && pwd)
crawler=$(dirname "$here")
tmp=$(mktemp -d /tmp/pglearn-extract-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# built by crawler/Makefile, with the crawler's own warning and sanitizer flags
if ! make -s -C "$crawler" t/extract_test >"$tmp/build.log" 2>&1; then
	sed 's/^/#   /' "$tmp/build.log"
	echo "not ok 1 - build t/extract_test"
	echo "0 passed, 1 failed"
	exit 1
fi
ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
	"$crawler/t/extract_test" "$here/pages" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
passed=$(grep -c '^ok ' "$tmp/out")
failed=$(grep -c '^not ok ' "$tmp/out")
if [ "$rc" != 0 ] && [ "$failed" = 0 ] || grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$tmp/out"; then
	echo "not ok $((passed + 1)) - extract_test exits 0 with no sanitizer report (exit $rc)"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
