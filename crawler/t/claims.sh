#!/bin/bash
# crawler/t/claims.sh: several `pglearn crawl --pending` (and --stale) at
# once share the table's URLs through pglearn.claim_urls(): each URL is
# fetched once, counted in the fixture server's own access log; a crawler
# killed with SIGKILL mid-batch loses nothing (its URLs are fetched by
# another once its lease is over, not before); one interrupted gives its
# unfetched URLs back at once; labels set before the crawl stay.
#
# Needs a running cluster named by PGHOST/PGPORT/PGUSER (a superuser), as
# crawler/t/run.sh does; makes and drops its own database claims_test_<pid>
# and runs t/claims_server.py on 127.0.0.1.  The crawler is the ASan/UBSan
# build unless PGLEARN_BIN names another.  Prints TAP lines and
# "N passed, N failed".  About 40 s.
set -u

here=$(cd "$(dirname "$0")" && pwd)
crawler=$(dirname "$here")
root=$(dirname "$crawler")
. "$root/t/lib/tap.sh"

make -s -C "$crawler" pglearn pglearn-asan >/dev/null || { echo "not ok 1 - build"; echo "0 passed, 1 failed"; exit 1; }
BIN=${PGLEARN_BIN:-$crawler/pglearn-asan}
export ASAN_OPTIONS="exitcode=99:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"

tmp=$(mktemp -d /tmp/pglearn-claims-test.XXXXXX)
DB="claims_test_$$"
export PGDATABASE=$DB
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	# crawlers this script started and may have left (a failed wait)
	for p in ${crawler_pids:-}; do kill -9 "$p" 2>/dev/null; done
	dropdb --if-exists "$DB" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }

createdb "$DB" || { echo "not ok 1 - createdb $DB"; echo "0 passed, 1 failed"; exit 1; }
q "CREATE EXTENSION IF NOT EXISTS pglearn" >/dev/null || { echo "not ok 1 - CREATE EXTENSION"; echo "0 passed, 1 failed"; exit 1; }

LOG=$tmp/access.log
python3 "$here/claims_server.py" "$tmp/port" "$LOG" &
server_pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
read -r PORT < "$tmp/port" || { echo "not ok 1 - claims server"; echo "0 passed, 1 failed"; exit 1; }
B="http://127.0.0.1:$PORT"
FAST="--delay 0 --jobs 8 --per-host 8 --timeout 60 --allow-cidr 127.0.0.1/32"
sanitizer_reports=0

# start a crawler in the background: start NAME ARGS...; its pid in $!
crawler_pids=
start() {
	local name=$1
	shift
	"$BIN" crawl "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	crawler_pids="$crawler_pids $!"
}
# the crawler's exit status: wait_for PID NAME (sets rc)
wait_for() {
	wait "$1"
	rc=$?
	if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$tmp/$2.err"; then
		sanitizer_reports=$((sanitizer_reports + 1))
		sed 's/^/#   /' "$tmp/$2.err" | head -40
	fi
}
# requests per path in the access log, for paths matching a prefix:
# "COUNT PATH" lines, sorted by path
hits() { awk -v p="$1" 'index($2, p) == 1 { n[$2]++ } END { for (k in n) print n[k], k }' "$LOG" | sort -k2; }
fetched_by() { sed -n 's/.* URLs, \([0-9]*\) fetched, \([0-9]*\) failed.*/\1 \2/p' "$tmp/$1.err"; }

# ---- usage ----
"$BIN" crawl --lease 0 --pending >/dev/null 2>"$tmp/u.err"; is "$?" 2 "--lease 0 is a usage error"
"$BIN" crawl --claim-size 0 --pending >/dev/null 2>"$tmp/u.err"; is "$?" 2 "--claim-size 0 is a usage error"
"$BIN" crawl --lease 10 "$B/c/1" >/dev/null 2>"$tmp/u.err"; is "$?" 2 "--lease without --pending or --stale is a usage error"
like "$(cat "$tmp/u.err")" "for --pending and --stale" "... and says so"
"$BIN" crawl --help >"$tmp/help" 2>&1
like "$(tr '\n' ' ' <"$tmp/help")" "--claim-size=N +URLs claimed per batch \(default 100\).*--lease=SEC .*\(default 600\)" "crawl --help documents --claim-size and --lease"

# ---- three crawlers, 300 pending URLs and 10 that fail: each fetched once ----
# pages wait 50 ms, so one crawler alone would take seconds: all three get work
q "INSERT INTO pglearn.examples (url, label)
   SELECT '$B/c/' || i || '?d=0.05', CASE WHEN i % 7 = 0 THEN 1 WHEN i % 11 = 0 THEN -1 END
     FROM generate_series(1, 300) i;
   INSERT INTO pglearn.examples (url) SELECT '$B/fail/' || i FROM generate_series(1, 10) i;
   -- already fetched well: not pending, never claimed
   INSERT INTO pglearn.examples (url, title, fetched_at, http_status) VALUES ('$B/c/done', 'done', now(), 200)"
labels_before=$(q "SELECT md5(string_agg(url || '=' || coalesce(label::text, 'null'), ',' ORDER BY url)) FROM pglearn.examples")
is "$(q "SELECT count(*) FROM pglearn.examples WHERE label IS NOT NULL")" 66 "66 of the URLs are labelled before the crawl"

for c in a b c; do start "three_$c" $FAST --pending --claim-size 20 --lease 120; eval "pid_$c=\$!"; done
all_exit=
for c in a b c; do eval "wait_for \$pid_$c three_$c"; all_exit="$all_exit$rc"; done
like "$all_exit" "^[01]{3}$" "three crawlers exit 0 or 1 (1: it got some of the 503 pages)"
is "$(cat "$tmp"/three_?.err | grep -c "URLs, [0-9]* fetched")" 3 "each prints its summary"
ok=0; bad=0; busy=0
for c in a b c; do
	read -r f x < <(fetched_by "three_$c")
	ok=$((ok + ${f:-0})); bad=$((bad + ${x:-0}))
	[ "${f:-0}" -gt 0 ] && busy=$((busy + 1))
done
is "$ok $bad" "300 10" "together they fetched the 300 pages, and the 10 failing ones failed"
is "$busy" 3 "each of the three fetched some of them"
is "$(hits /c/ | wc -l) $(hits /c/ | awk '$1 != 1' | wc -l)" "300 0" "the server saw each of the 300 pages requested exactly once"
is "$(hits /fail/ | wc -l) $(hits /fail/ | awk '$1 != 1' | wc -l)" "10 0" "... and each failing page once: a failure is not handed to another crawler"
is "$(grep -c ' /c/done$' "$LOG")" 0 "the row fetched before was not requested"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '$B/c/%' AND crawl_state = 'fetched' AND title LIKE 'Page c %'")" 300 "every page is stored"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE crawl_state = 'failing' AND error_count = 1")" 10 "every failure counted once"
is "$(q "SELECT md5(string_agg(url || '=' || coalesce(label::text, 'null'), ',' ORDER BY url)) FROM pglearn.examples")" "$labels_before" "labels are untouched"
is "$(q "SELECT count(DISTINCT claimed_by) FROM pglearn.crawl_claims")" 3 "the claims name three crawlers"
like "$(q "SELECT claimed_by FROM pglearn.crawl_claims LIMIT 1")" "^[^ ]+ pid [0-9]+$" "... as HOST pid PID"
# a crawl after them: the failing URLs are claimed already (their lease runs)
"$BIN" crawl $FAST --pending >/dev/null 2>"$tmp/after.err"
like "$(cat "$tmp/after.err")" " 0 URLs, 0 fetched" "a crawl right after finds nothing unclaimed: the failures wait for their lease"

# ---- --stale: two crawlers refresh 100 old rows, each once ----
q "DELETE FROM pglearn.crawl_claims" >/dev/null
q "UPDATE pglearn.examples SET fetched_at = now() - interval '3 days'
    WHERE url ~ '/c/[0-9]+[?]' AND substring(url from '/c/([0-9]+)')::int <= 100" >/dev/null
start stale_a $FAST --stale 2 --claim-size 10; pa=$!
start stale_b $FAST --stale 2 --claim-size 10; pb=$!
wait_for $pa stale_a; ra=$rc; wait_for $pb stale_b; rb=$rc
is "$ra$rb" "00" "two --stale crawlers exit 0"
is "$(hits /c/ | awk '$1 == 2' | wc -l) $(hits /c/ | awk '$1 > 2' | wc -l)" "100 0" "the 100 stale pages were requested once more each, by one of them"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE fetched_at < now() - interval '1 day'")" 0 "no row is stale any more"

# ---- SIGKILL mid-batch: nothing lost, the lease is kept ----
# 100 pending URLs; the 14th-20th are slow on their first request, so the
# first crawler commits rows of its first batch (--batch 5) and then waits
: >"$LOG"
q "DELETE FROM pglearn.crawl_claims;
   DELETE FROM pglearn.examples WHERE url LIKE '$B/fail/%';
   INSERT INTO pglearn.examples (url, label)
   SELECT CASE WHEN i BETWEEN 14 AND 20 THEN '$B/slow/' || i || '?s=60' ELSE '$B/k/' || i END,
          CASE WHEN i % 5 = 0 THEN -1 END
     FROM generate_series(1, 100) i" >/dev/null
labels_before=$(q "SELECT md5(string_agg(url || '=' || coalesce(label::text, 'null'), ',' ORDER BY url)) FROM pglearn.examples")
LEASE=4
start killed $FAST --pending --claim-size 20 --batch 5 --lease $LEASE; pk=$!
committed=0
for _ in $(seq 300); do
	committed=$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '$B/k/%' AND crawl_state = 'fetched'")
	[ "$committed" -ge 10 ] && [ "$(grep -c ' /slow/' "$LOG")" -ge 7 ] && break
	sleep 0.1
done
kill -KILL $pk
wait $pk 2>/dev/null
is "$(grep -c ' /slow/' "$LOG")" 7 "the crawler was waiting on the 7 slow pages of its batch when it was killed"
# what the dead crawler left: its claims on URLs it had not stored
q "SELECT c.url, extract(epoch FROM c.claimed_until) FROM pglearn.crawl_claims c
     JOIN pglearn.examples e USING (url) WHERE e.crawl_state <> 'fetched' ORDER BY 1" >"$tmp/orphans"
orphans=$(wc -l <"$tmp/orphans")
stored=$(q "SELECT count(*) FROM pglearn.examples WHERE (url LIKE '$B/k/%' OR url LIKE '$B/slow/%') AND crawl_state = 'fetched'")
is "$((orphans + stored))" 20 "of its batch of 20, those it did not commit are still claimed ($stored stored, $orphans left)"
is "$(q "SELECT count(DISTINCT claimed_by) FROM pglearn.crawl_claims")" 1 "... by the one crawler"

start after_a $FAST --pending --claim-size 10 --lease $LEASE; pa=$!
start after_b $FAST --pending --claim-size 10 --lease $LEASE; pb=$!
wait_for $pa after_a; ra=$rc; wait_for $pb after_b; rb=$rc
is "$ra$rb" "00" "two more crawlers exit 0"
# if they were done before the lease ran out, the dead crawler's URLs are
# still pending: a crawl after the lease takes them
for _ in $(seq 100); do
	[ "$(q "SELECT count(*) FROM pglearn.crawl_claims WHERE claimed_until > clock_timestamp()
	        AND url IN (SELECT url FROM pglearn.examples WHERE crawl_state <> 'fetched')")" = 0 ] && break
	sleep 0.1
done
"$BIN" crawl $FAST --pending --lease $LEASE >/dev/null 2>"$tmp/late.err"
like "$(cat "$tmp/late.err")" "URLs, [0-9]+ fetched, 0 failed" "a crawl after the lease runs"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE crawl_state <> 'fetched'")" 0 "nothing was lost: every URL is fetched"
is "$(hits / | grep -v ' /robots.txt$' | wc -l)" 100 "the server saw all 100 URLs"
# requested twice: exactly the dead crawler's unfinished URLs (it had asked
# for them, or was about to), and never before its lease was over
cut -d'|' -f1 "$tmp/orphans" | sed "s|^$B||; s|?.*||" | sort >"$tmp/orphan_paths"
hits / | grep -v ' /robots.txt$' | awk '$1 > 1 { print $2 }' | sort >"$tmp/twice"
is "$(comm -13 "$tmp/orphan_paths" "$tmp/twice" | wc -l)" 0 "no URL but the dead crawler's unfinished ones was requested twice"
is "$(hits / | grep -v ' /robots.txt$' | awk '$1 > 2' | wc -l)" 0 "none three times"
# the last request of each is the one after the kill; it came after the
# lease (the server and the database share this machine's clock)
early=0
while IFS='|' read -r url until; do
	path=$(printf '%s' "$url" | sed "s|^$B||; s|?.*||")
	last=$(awk -v p="$path" '$2 == p { t = $1 } END { print t }' "$LOG")
	awk -v a="$last" -v b="$until" 'BEGIN { exit !(a != "" && a >= b) }' || early=$((early + 1))
done <"$tmp/orphans"
is "$early" 0 "every one of them was fetched again only after the dead crawler's lease ended"
is "$(q "SELECT md5(string_agg(url || '=' || coalesce(label::text, 'null'), ',' ORDER BY url)) FROM pglearn.examples")" "$labels_before" "labels are untouched"

# ---- interrupted: the unfetched rest of the batch is given back at once ----
: >"$LOG"
q "DELETE FROM pglearn.crawl_claims;
   INSERT INTO pglearn.examples (url) SELECT '$B/i/' || i || '?d=0.5' FROM generate_series(1, 30) i" >/dev/null
start interrupted --delay 0 --jobs 2 --per-host 2 --allow-cidr 127.0.0.1/32 --pending --claim-size 30 --lease 600; pi=$!
for _ in $(seq 100); do [ "$(grep -c ' /i/' "$LOG")" -ge 2 ] && break; sleep 0.05; done
kill -INT $pi
wait_for $pi interrupted
is "$rc" 1 "an interrupted crawl exits 1"
like "$(cat "$tmp/interrupted.err")" "gave back [0-9]+ claimed URLs not fetched" "it says it gave back its unfetched claims"
is "$(q "SELECT count(*) FROM pglearn.crawl_claims c JOIN pglearn.examples e USING (url) WHERE e.crawl_state = 'not fetched'")" 0 "no unfetched URL stays claimed"
"$BIN" crawl $FAST --pending --lease 600 >/dev/null 2>"$tmp/rest.err"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '$B/i/%' AND crawl_state = 'fetched'")" 30 "the next crawl fetches the rest without waiting for the lease"
is "$(hits /i/ | awk '$1 != 1' | wc -l)" 0 "... each page once"

is "$sanitizer_reports" 0 "no AddressSanitizer/UBSan/LeakSanitizer reports"
finish
