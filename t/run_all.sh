#!/usr/bin/env bash
# t/run_all.sh: build pglearn and run every test suite on a throwaway cluster.
#
# Suites: pg_regress and isolation (make installcheck), the C unit tests
# under AddressSanitizer/UBSan (t/unit), the TAP tests with their own
# clusters (t/*.pl: dump/restore, standby, crash), libFuzzer targets for a
# short fixed budget each (t/fuzz), SQL fuzzing and the hostile-input
# catalogue (t/fuzz/sql_inputs.sh, t/hostile), search_path hijacking by
# look-alikes generated from the scripts (t/hijack), the accuracy test on the
# SpamAssassin corpus (t/accuracy.sh), memory (t/memory.sh), pg_regress and
# isolation against an assert-enabled PostgreSQL built from source
# (t/cassert.sh), publishing to a real Redis (t/redis/run.sh), README's
# roles recipe and what each role may do (t/roles/run.sh), the
# crawler's tests (crawler/t), crawlers sharing the work through claims
# (crawler/t/claims.sh) and its main-content extraction on fixture
# pages (crawler/t/extract_test.sh), README's install and Redis set-up steps in a
# new shell and session (t/setup), README's "Operations" (t/ops: dump,
# archive, base backup and restore, a standby, failover mid-crawl, check),
# README's pg_cron and cron(8) recipes on a cluster set up like Debian's
# (t/cron, in the background), and the demo showing what README says it
# shows (t/demo/run.sh).
# Ends with "N passed, N failed" and exits non-zero if anything failed.
# Run it as root on a new machine (it installs its Debian packages); as an
# ordinary user it needs the packages already and write access to the
# PostgreSQL install directories.
set -uo pipefail

cd "$(dirname "$0")/.."
TOP=$(pwd)
. t/lib/cluster.sh

passed=0
failed=0
count() {						# count PASSED FAILED SUITE
	passed=$((passed + $1))
	failed=$((failed + $2))
	echo "== $3: $1 passed, $2 failed"
}

install_packages || exit 2

echo "== building"
make -s PG_CONFIG=pg_config >/tmp/pglearn-build.log 2>&1 && make -s install >>/tmp/pglearn-build.log 2>&1 || {
	cat /tmp/pglearn-build.log
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
}
grep -i "warning" /tmp/pglearn-build.log && echo "(build produced warnings)"

trap 'cluster_stop' EXIT
trap 'exit 130' INT TERM
cluster_start || { echo "0 passed, 1 failed"; exit 1; }
echo "== cluster on port $PGPORT (socket $PGHOST)"

# pg_regress (PostgreSQL 15 prints "test NAME ... ok" or "... FAILED")
echo "== pg_regress"
rm -rf results regression.diffs regression.out
make -s installcheck >/tmp/pglearn-regress.log 2>&1
regress_status=$?
cat /tmp/pglearn-regress.log
p=$(grep -cE '^(test | +)?[a-z_0-9]+ +\.\.\. ok' /tmp/pglearn-regress.log || true)
f=$(grep -cE '\.\.\. (FAILED|failed)' /tmp/pglearn-regress.log || true)
# make's own status counts too: a run that stopped early can print no FAILED
if [ "$f" = 0 ] && { [ "$p" = 0 ] || [ "$regress_status" != 0 ]; }; then f=1; fi
[ -f regression.diffs ] && head -200 regression.diffs
count "$p" "$f" "pg_regress"

# C unit tests under sanitizers; each binary prints TAP
echo "== unit tests"
if make -s unit >/tmp/pglearn-unit.log 2>&1; then
	cat /tmp/pglearn-unit.log
	p=$(grep -cE '^ok ' /tmp/pglearn-unit.log || true)
	f=$(grep -cE '^not ok ' /tmp/pglearn-unit.log || true)
else
	cat /tmp/pglearn-unit.log
	p=$(grep -cE '^ok ' /tmp/pglearn-unit.log || true)
	f=$(( $(grep -cE '^not ok ' /tmp/pglearn-unit.log || true) + 1 ))
fi
count "$p" "$f" "unit"

# suites that print their own "N passed, N failed" line (", N skipped" when
# they could not run)
tally() {						# tally NAME STATUS: count the suite's log
	local name=$1 status=$2 log=/tmp/pglearn-$1.log
	cat "$log"
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		count 0 1 "$name (no result line, exit $status)"
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	[ "$status" != 0 ] && [ "$f" = 0 ] && f=1
	case "$line" in *skipped*) name="$name (skipped: ${line#*failed, })" ;; esac
	count "$p" "$f" "$name"
}
run_suite() {					# run_suite NAME COMMAND...
	local name=$1
	shift
	"$@" >"/tmp/pglearn-$name.log" 2>&1
	tally "$name" $?
}
# Suites that mostly wait (on pg_cron's minute) run in the background beside
# the others and are counted at the end.
declare -A background=()
start_suite() {					# start_suite NAME COMMAND...
	local name=$1
	shift
	"$@" >"/tmp/pglearn-$name.log" 2>&1 &
	background[$name]=$!
}
collect_suites() {
	local name status
	for name in "${!background[@]}"; do
		wait "${background[$name]}"
		status=$?
		tally "$name" "$status"
	done
}

start_suite cron bash t/cron/run.sh

run_suite tap bash t/tap.sh
run_suite fuzz bash t/fuzz/run.sh
run_suite features-ref bash t/features_ref/run.sh
run_suite sql-fuzz bash t/fuzz/sql_inputs.sh
run_suite hostile bash t/hostile/run.sh
run_suite hijack bash t/hijack/run.sh
run_suite accuracy bash t/accuracy.sh
run_suite memory bash t/memory.sh
run_suite cassert bash t/cassert.sh
run_suite redis bash t/redis/run.sh
run_suite roles bash t/roles/run.sh
run_suite crawler bash crawler/t/run.sh
run_suite claims bash crawler/t/claims.sh
run_suite citus bash t/citus/run.sh
run_suite extract bash crawler/t/extract_test.sh
run_suite setup bash t/setup/run.sh
run_suite ops bash t/ops/run.sh
run_suite demo bash t/demo/run.sh
collect_suites

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
