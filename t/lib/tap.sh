# t/lib/tap.sh: result lines for the shell test scripts (sourced).
#
# check DESCRIPTION STATUS prints "ok N - DESCRIPTION" when STATUS is 0,
# else "not ok N - DESCRIPTION"; report STATUS DESCRIPTION [DIAGNOSTIC] does
# the same and, on failure, prints DIAGNOSTIC as "#" lines (at most
# TAP_DIAG_LINES of them, 20 by default); is GOT WANTED DESCRIPTION,
# like GOT REGEX DESCRIPTION and unlike GOT REGEX DESCRIPTION compare and
# report; finish prints the "N passed, N failed" line t/run_all.sh reads
# and exits non-zero if anything failed.

n=0
passed=0
failed=0
check() {
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
		passed=$((passed + 1))
	else
		echo "not ok $n - $1"
		failed=$((failed + 1))
	fi
}
report() {
	check "$2" "$1"
	if [ "$1" != 0 ] && [ -n "${3:-}" ]; then
		printf '%s\n' "$3" | head -n "${TAP_DIAG_LINES:-20}" | sed 's/^/#   /' | cut -c1-1000
	fi
}
is() {							# is GOT WANTED DESCRIPTION
	local status=1
	[ "$1" = "$2" ] && status=0
	report "$status" "$3" "got: $1"$'\n'"wanted: $2"
}
like() {						# like GOT REGEX DESCRIPTION
	local status=1
	printf '%s' "$1" | grep -qE -- "$2" && status=0
	report "$status" "$3" "got: $1"$'\n'"wanted: /$2/"
}
unlike() {						# unlike GOT REGEX DESCRIPTION
	local status=0
	printf '%s' "$1" | grep -qE -- "$2" && status=1
	report "$status" "$3" "got: $1"$'\n'"wanted no match of: /$2/"
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}
