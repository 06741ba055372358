#!/bin/bash
# crawler/t/run.sh: tests of the pglearn command against a fixture HTTP server
# on 127.0.0.1 and a scratch database in the cluster named by PGHOST/PGPORT/
# PGUSER (a superuser).  Prints TAP-style lines and "N passed, N failed";
# exits non-zero on any failure.
#
# The crawler runs as the AddressSanitizer/UBSan build (pglearn-asan) unless
# PGLEARN_BIN names another binary; any sanitizer report fails the suite.
# The fixture is on loopback, which the crawler refuses by default: the
# tests pass --allow-cidr 127.0.0.1/32 ($ALLOW) except where they test that
# refusal.  The address classifier's unit test (t/address_test.c, built with
# ASan/UBSan) runs first and its results are counted here.
set -u

here=$(cd "$(dirname "$0")" && pwd)
crawler=$(dirname "$here")
root=$(dirname "$crawler")

make -s -C "$crawler" pglearn pglearn-asan >/dev/null || { echo "not ok 1 - build"; echo "0 passed, 1 failed"; exit 1; }
BIN=${PGLEARN_BIN:-$crawler/pglearn-asan}
export ASAN_OPTIONS="exitcode=99:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"

tmp=$(mktemp -d /tmp/pglearn-crawler-test.XXXXXX)
DB="crawler_test_$$"
export PGDATABASE=$DB
server_pid=
n=0; passed=0; failed=0; runs=0; sanitizer_reports=0

cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	[ -n "${pages_pid:-}" ] && kill "$pages_pid" 2>/dev/null
	dropdb --if-exists "$DB" >/dev/null 2>&1
	dropdb --if-exists "${DB}_annotate" >/dev/null 2>&1
	dropdb --if-exists "${DB}_bare" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

pass() { n=$((n+1)); passed=$((passed+1)); echo "ok $n - $1"; }
fail() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $1"; }
# is GOT EXPECTED DESC
is() {
	if [ "$1" == "$2" ]; then pass "$3"; else fail "$3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; fi
}
# like GOT REGEX DESC
like() {
	if [[ "$1" =~ $2 ]]; then pass "$3"; else fail "$3"; echo "#   got:     '$1'"; echo "#   expected to match: '$2'"; fi
}
q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
# run the crawler; sets rc, and err (its stderr)
pg() {
	runs=$((runs+1))
	"$BIN" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	err=$(cat "$tmp/err")
	out=$(cat "$tmp/out")
	check_sanitizer "$tmp/err" "$*"
}
# count and show sanitizer reports in a captured stderr
check_sanitizer() {
	if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$1"; then
		sanitizer_reports=$((sanitizer_reports+1))
		echo "# sanitizer report in: pglearn $2"
		sed 's/^/#   /' "$1" | head -40
	fi
}

# ---- the address classifier's unit test: addresses as data, no sockets ----
runs=$((runs+1))
if make -s -C "$crawler" t/address_test >"$tmp/unit.log" 2>&1; then
	"$crawler/t/address_test" >"$tmp/unit.out" 2>&1
	unit_rc=$?
	while IFS= read -r line; do
		case "$line" in
			"ok "*) pass "address.c: ${line#ok * - }" ;;
			"not ok "*) fail "address.c: ${line#not ok * - }" ;;
			"#"*) echo "$line" ;;
		esac
	done < "$tmp/unit.out"
	check_sanitizer "$tmp/unit.out" "t/address_test"
	is "$unit_rc" 0 "the address unit test exits 0"
else
	sed 's/^/#   /' "$tmp/unit.log"
	fail "build t/address_test"
fi

# ---- database ----
createdb "$DB" || { echo "not ok 1 - createdb $DB"; echo "0 passed, 1 failed"; exit 1; }
# the crawler writes through the extension's functions (pglearn.record_fetch
# and the others), so there is no crawling without it
if ! psql -X -q -c "CREATE EXTENSION IF NOT EXISTS pglearn" >/dev/null 2>"$tmp/ext.err"; then
	echo "not ok 1 - CREATE EXTENSION pglearn: $(head -n 1 "$tmp/ext.err")"
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- fixture server ----
python3 "$here/fixture_server.py" "$tmp/ports" &
server_pid=$!
for _ in $(seq 50); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
read -r PORT REDIS_PORT PORT2 PORT6 < "$tmp/ports" || { echo "not ok 1 - fixture server"; echo "0 passed, 1 failed"; exit 1; }
B="http://127.0.0.1:$PORT"
B2="http://127.0.0.1:$PORT2"
B6="http://[::1]:$PORT6"
ALLOW="--allow-cidr 127.0.0.1/32"
FAST="--delay 0 --per-host 8 --timeout 5 $ALLOW"
col() { q "SELECT $1 FROM pglearn.examples WHERE url = '$B$2'"; }
hits() { curl -s "$B/_hits?path=$1"; }

# ---- command line ----
# one version: pglearn.control's default_version, through the build
VERSION=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$root/pglearn.control")
like "$VERSION" "^[0-9]+\.[0-9]+" "pglearn.control has a default_version ($VERSION)"
pg --version;                     like "$out" "^pglearn ${VERSION//./\\.} \(libcurl " "--version is the control file's default_version"
pg crawl --help;                  like "$out" "default \"pglearn-crawler/${VERSION//./\\.}\"" "crawl --help shows that version in the User-Agent"
pg --help;                        is "$rc" 0 "--help exits 0"
pg crawl --help;                  like "$out" "--pending" "crawl --help lists options"
like "$out" "--allow-cidr=CIDR.*--allow-private.*only public addresses" "crawl --help documents the address options"
like "$out" "--max-feed-items=N +links taken from each feed \(default 1000\)" "crawl --help documents --max-feed-items"
pg add --help;                    like "$out" "--no-fetch" "add --help lists options"
like "$out" "--allow-cidr=CIDR.*--allow-private" "add --help documents the address options"
pg check --help;                  like "$out" "--age-warning" "check --help lists options"
pg crawl;                         is "$rc" 2 "crawl without input is a usage error (2)"
pg crawl --jobs 0 "$B/utf8.html"; is "$rc" 2 "--jobs 0 is a usage error"
pg crawl --bogus;                 is "$rc" 2 "unknown option is a usage error"
pg frobnicate;                    is "$rc" 2 "unknown command is a usage error"
pg crawl --dbname "host=127.0.0.1 port=1 connect_timeout=2" "$B/utf8.html"
is "$rc" 2 "unreachable database exits 2"

# ---- good pages in many charsets ----
pg crawl $FAST "$B/utf8.html" "$B/sjis.html" "$B/eucjp.html" "$B/iso2022jp.html" "$B/cp1252.html" \
	"$B/bom.html" "$B/gzip.html" "$B/ogtitle.html" "$B/malformed.html" "$B/redirect/1" "$B/plain.txt"
is "$rc" 0 "crawl of good pages exits 0"
like "$err" "11 URLs, 11 fetched, 0 failed" "summary line counts"
is "$(echo "$err" | grep -c $'\r')" 0 "no progress output when stderr is not a terminal"
is "$(q 'SELECT count(*) FROM pglearn.examples')" 11 "11 rows"
is "$(col title /utf8.html)" "日本語の タイトル" "UTF-8 title, whitespace collapsed"
is "$(col description /utf8.html)" "説明文です" "meta description"
is "$(col og_description /utf8.html)" "OG description & more" "og:description with entity"
is "$(col og_type /utf8.html)" "article" "og:type"
is "$(col og_image /utf8.html)" "$B/img/og.png" "og:image made absolute"
is "$(col favicon /utf8.html)" "$B/favicon.ico" "favicon made absolute"
is "$(col final_url /utf8.html)" "$B/canonical/utf8?id=7" "canonical -> final_url without utm_* and fragment"
is "$(col body /utf8.html)" "Heading visible text here secondbold block 日本語の本文です。" "visible body text only, collapsed"
is "$(col "concat_ws('|', http_status, coalesce(fetch_error, 'null'), error_count, coalesce(label::text, 'null'), fetched_at IS NOT NULL)" /utf8.html)" "200|null|0|null|t" "status 200, no error, no label, fetched_at set"
is "$(col title /sjis.html)" "シフトJISのページ ①" "Shift_JIS (header charset, CP932 extension char)"
is "$(col body /sjis.html)" "こんにちは世界" "Shift_JIS body"
is "$(col title /eucjp.html)" "EUC-JPのページ" "EUC-JP from <meta http-equiv> only"
is "$(col body /eucjp.html)" "日本語の本文" "EUC-JP body"
is "$(col title /iso2022jp.html)" "ISO-2022-JPのページ" "ISO-2022-JP"
is "$(col title /cp1252.html)" "Café – “quoted”" "iso-8859-1 label decoded as windows-1252"
is "$(col title /bom.html)" "BOM page ✓" "UTF-8 BOM beats a wrong <meta charset>"
is "$(col title /gzip.html)" "Gzipped page" "gzip Content-Encoding"
is "$(col title /ogtitle.html)" "OG only title" "og:title fallback"
is "$(col "title || '|' || (body LIKE '%cell%') || '|' || (body LIKE '%' || U&'\FFFD' || '%')" /malformed.html)" "Broken page|true|true" "malformed HTML: recovered, bad bytes -> U+FFFD"
is "$(col "title || '|' || final_url" /redirect/1)" "Redirect target|$B/redirect-target.html?keep=1" "redirect chain: target page, final_url without utm_* or FBCLID, in any case (src/tracking.h)"
is "$(col "coalesce(title,'-') || '|' || body" /plain.txt)" "-|plain text file" "text/plain body"
pg crawl $FAST "$B/utf16.html" "$B/base/page.html"
is "$(col title /utf16.html)" "UTF-16 ページ" "UTF-16LE from its byte order mark"
is "$(col "concat_ws('|', og_image, favicon, final_url)" /base/page.html)" "$B/sub/img.png|http://127.0.0.1:9/fav.ico|$B/sub/c.html" "<base href> and scheme-relative URLs resolved"
is "$(curl -s "$B/_last" | cut -d'|' -f1)" "pglearn-crawler/$VERSION" "User-Agent sent is pglearn-crawler/ + the control file's version"
like "$(curl -s "$B/_last")" "^pglearn-crawler/[^|]*\|.*gzip" "Accept-Encoding sent"
pg crawl $FAST --max-body 1M --max-text 1000 "$B/big?text"
is "$(col "length(body)" '/big?text')" 1000 "--max-text caps the body text"

# ---- failures ----
pg crawl $ALLOW --delay 0 --per-host 8 --timeout 1 --max-body 64k "$B/loop/a" "$B/tofile" "$B/toftp" "$B/404" "$B/500" \
	"$B/slow?s=3" "$B/big" "$B/big-chunked" "$B/bomb" "$B/image.png" "$B/private/secret.html" "$B/private/open.html" \
	"http://127.0.0.1:1/" "file:///etc/passwd" "ftp://127.0.0.1/x"
is "$rc" 1 "crawl with failures exits 1"
like "$err" "13 URLs, 1 fetched, 12 failed \(1 disallowed by robots.txt, 0 at refused addresses\), 2 invalid" "failure summary"
like "$err" "skipping \"file:///etc/passwd\"" "file:// argument refused"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE 'file:%' OR url LIKE 'ftp:%' OR body LIKE '%root:%'")" 0 "no row for other schemes, nothing read from /etc/passwd"
like "$(col "http_status || '|' || fetch_error" /loop/a)" "^30[12]\|Maximum \(5\) redirects" "redirect loop stops at the limit"
like "$(col "http_status || '|' || fetch_error" /tofile)" "^302\|.*\"file\" not supported" "redirect to file:// refused"
like "$(col "fetch_error" /toftp)" "\"ftp\" not supported" "redirect to ftp:// refused"
is "$(col "http_status || '|' || fetch_error || '|' || error_count || '|' || (title IS NULL)" /404)" "404|HTTP status 404|1|true" "404 stored as failure"
is "$(col "http_status || '|' || fetch_error" /500)" "500|HTTP status 500" "500 stored as failure"
like "$(col "coalesce(http_status::text,'') || '|' || fetch_error" '/slow?s=3')" "^\|Operation timed out" "slow page times out"
is "$(col fetch_error /big)" "body too large (over 65536 bytes)" "body over the cap (Content-Length)"
is "$(col fetch_error /big-chunked)" "body too large (over 65536 bytes)" "chunked body over the cap"
is "$(col "fetch_error || '|' || (body IS NULL)" /bomb)" "body too large (over 65536 bytes)|true" "gzip bomb stopped on decoded bytes"
is "$(col fetch_error /image.png)" "unsupported content type: image/png" "non-HTML content type"
is "$(col "fetch_error || '|' || (http_status IS NULL)" /private/secret.html)" "disallowed by robots.txt|true" "robots.txt disallow recorded"
is "$(hits /private/secret.html)" 0 "disallowed page never requested"
is "$(col title /private/open.html)" "Page open.html" "robots.txt Allow overrides a shorter Disallow"
like "$(q "SELECT fetch_error FROM pglearn.examples WHERE url = 'http://127.0.0.1:1/'")" "^(Couldn't connect|Failed to connect)" "connection refused by an allowed address: libcurl's error, not the address check's"

# ---- labels survive re-crawls; failures never wipe good content ----
q "UPDATE pglearn.examples SET label = 1 WHERE url IN ('$B/utf8.html', '$B/404');
   UPDATE pglearn.examples SET label = -1 WHERE url = '$B/sjis.html'"
pg crawl $FAST -q "$B/utf8.html" "$B/sjis.html" "$B/404"
is "$rc" 1 "re-crawl with one failure exits 1"
is "$err" "" "--quiet prints nothing"
is "$(q "SELECT string_agg(label::text, ',' ORDER BY url) FROM pglearn.examples WHERE url IN ('$B/utf8.html', '$B/sjis.html', '$B/404')")" "1,-1,1" "labels unchanged by crawl (404, sjis, utf8)"
is "$(col error_count /404)" 2 "error_count incremented again"
pg crawl $FAST "$B/_flaky/ok" >/dev/null
pg crawl $FAST "$B/flaky"
is "$(col "title || '|' || http_status" /flaky)" "Flaky good|200" "flaky page fetched"
q "UPDATE pglearn.examples SET label = 1 WHERE url = '$B/flaky'"
curl -s "$B/_flaky/fail" >/dev/null
pg crawl $FAST "$B/flaky"
is "$rc" 1 "failed re-fetch exits 1"
is "$(col "concat_ws('|', title, body, http_status, coalesce(fetch_error, 'null'), error_count, label)" /flaky)" "Flaky good|good content|200|null|1|1" "failed re-fetch keeps good content and label, counts the error"
curl -s "$B/_flaky/ok" >/dev/null
pg crawl $FAST "$B/flaky"
is "$(col "error_count || '|' || label" /flaky)" "0|1" "success resets error_count"
q "UPDATE pglearn.examples SET label = -1 WHERE url = '$B/bomb'"
pg crawl $FAST "$B/bomb?x" "$B/gzip.html"
q "UPDATE pglearn.examples SET http_status = NULL WHERE url = '$B/gzip.html'"

# a failed row becomes good when the fetch succeeds, label kept
q "UPDATE pglearn.examples SET label = -1 WHERE url = '$B/big'"
pg crawl $FAST --max-body 1M "$B/big"
is "$(col "concat_ws('|', title, http_status, coalesce(fetch_error,'null'), error_count, label)" /big)" "Big|200|null|0|-1" "failed row replaced by a good fetch, label kept"

# ---- inputs: stdin, --file, duplicates ----
printf '%s\n' "$B/page/s1" "" "# comment" "$B/page/s2" | { "$BIN" crawl $FAST - >/dev/null 2>"$tmp/err"; echo $? > "$tmp/rc"; }
runs=$((runs+1)); check_sanitizer "$tmp/err" "crawl -"
is "$(cat "$tmp/rc")" 0 "URLs from stdin"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url IN ('$B/page/s1', '$B/page/s2') AND title LIKE 'Page s_'")" 2 "stdin rows stored"
printf '%s\t1\n%s\n' "$B/page/f1" "$B/page/f2" > "$tmp/urls.tsv"
pg crawl $FAST --file "$tmp/urls.tsv" "$B/page/f1" "$B/page/f1"
is "$rc" 0 "--file plus arguments"
like "$err" "2 URLs, 2 fetched" "duplicates crawled once"
is "$(q "SELECT count(*) || '|' || count(label) FROM pglearn.examples WHERE url LIKE '$B/page/f_'")" "2|0" "--file rows stored, crawl sets no label"

# ---- feeds ----
big_hits=$(hits /big)
pg crawl $FAST --feed "$B/feed.rss?port=$PORT" --feed "$B/feed.atom"
is "$rc" 0 "RSS and Atom feeds"
is "$(q "SELECT string_agg(title, ',' ORDER BY title) FROM pglearn.examples WHERE url LIKE '$B/feed-item/%'")" "Page 1,Page 2,Page 3,Page 4" "feed items crawled (RSS link, Atom alternate and rel-less links)"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%feed.rss%' OR url LIKE '%feed.atom%'")|$(hits /big)" "0|$big_hits" "feed documents not stored, self and enclosure links not followed"
pg crawl $FAST --feed "$B/feed.rss?port=$PORT" --feed "$B/feed.atom"
like "$err" "0 URLs, 0 fetched, 0 failed .* 4 feed items already fetched" "polling a feed again skips fetched items"
pg crawl $FAST --feed "$B/badenc.rss"
is "$(echo "$err" | grep -ci 'encoding error\|I/O error')" "0" "a feed with a broken encoding leaves no libxml2 noise on stderr"
pg crawl $FAST --feed "$B/notfeed"
is "$rc" 1 "a non-feed is an error"
like "$err" "not an RSS or Atom feed" "non-feed message"

# ---- robots.txt off ----
pg crawl $FAST --ignore-robots "$B/private/secret.html"
is "$(col "title || '|' || error_count" /private/secret.html)" "Page secret.html|0" "--ignore-robots fetches a disallowed page"

# ---- robots.txt rules ----
pg crawl $FAST "$B/doc.pdf" "$B/doc.pdf?x=1" "$B/search?q=1" "$B/search/x"
is "$(q "SELECT string_agg(substr(url, length('$B') + 1) || '=' || (fetch_error = 'disallowed by robots.txt'), ',' ORDER BY url) FROM pglearn.examples WHERE url LIKE '$B/doc.pdf%' OR url LIKE '$B/search%'")" \
	"/doc.pdf=true,/doc.pdf?x=1=false,/search/x=false,/search?q=1=true" "robots.txt wildcards and \$ anchor"
pg crawl $FAST "$B2/page/g1" "$B2/private/g2"
is "$(q "SELECT string_agg(coalesce(title, fetch_error), ',' ORDER BY url) FROM pglearn.examples WHERE url LIKE '$B2/%'")" \
	"Page g1,disallowed by robots.txt" "a robots.txt group naming pglearn-crawler replaces the * group"
start=$(date +%s.%N)
pg crawl $FAST "$B2/page/d1" "$B2/page/d2" "$B2/page/d3"
t=$(elapsed "$start")
like "$rc|$(ge "$t" 1.9)" "^0\|1$" "robots.txt Crawl-delay: 1 spaces requests to that host (3 pages took $t s)"
curl -s "$B/_robots2/503" >/dev/null
pg crawl $FAST "$B2/page/g3"
is "$(q "SELECT fetch_error FROM pglearn.examples WHERE url = '$B2/page/g3'")" "disallowed by robots.txt" "robots.txt answering 5xx disallows everything"
curl -s "$B/_robots2/404" >/dev/null
pg crawl $FAST "$B2/private/g4"
is "$(q "SELECT title FROM pglearn.examples WHERE url = '$B2/private/g4'")" "Page g4" "robots.txt answering 404 allows everything"

# ---- redirects: every hop is checked against its host's robots.txt ----
curl -s "$B/_robots2/group" >/dev/null
pg crawl $FAST "$B/goto?to=$B2/private/rd1" "$B/goto?to=$B2/page/rd2" "$B/goto?to=/private/rd3"
is "$rc" 1 "a redirect into a disallowed path fails the URL"
is "$(hits /private/rd1)|$(hits /private/rd3)" "0|0" "disallowed redirect targets are never requested (other host, same host)"
is "$(q "SELECT concat_ws('|', http_status, fetch_error) FROM pglearn.examples WHERE url = '$B/goto?to=$B2/private/rd1'")" \
	"302|disallowed by robots.txt (redirect to $B2/private/rd1)" "redirect to another host: its robots.txt read first, the hop refused and named"
is "$(q "SELECT title FROM pglearn.examples WHERE url = '$B/goto?to=$B2/page/rd2'")" "Page rd2" "redirect to an allowed path of another host is followed"
like "$err" "3 URLs, 1 fetched, 2 failed \(2 disallowed by robots.txt, 0 at refused addresses\)" "refused redirects count as disallowed"
pg crawl $FAST --ignore-robots "$B/goto?to=$B2/private/rd4"
is "$(q "SELECT title FROM pglearn.examples WHERE url = '$B/goto?to=$B2/private/rd4'")" "Page rd4" "--ignore-robots follows any redirect"

# ---- add ----
printf '%s\t1\n%s\t-1\n%s\n%s\t0\n# comment\n\n%s\t+1\n' "$B/page/a1" "$B/page/a2" "$B/page/a3" "$B/page/a4" "$B/utf8.html" > "$tmp/add.tsv"
pg add --no-fetch "$tmp/add.tsv"
is "$rc" 0 "add --no-fetch"
like "$err" "5 URLs: 4 new, 0 relabelled, 1 unchanged" "add summary"
is "$(q "SELECT string_agg(coalesce(label::text, 'null') || ':' || (fetched_at IS NULL), ',' ORDER BY url) FROM pglearn.examples WHERE url LIKE '$B/page/a_'")" "1:true,-1:true,null:true,0:true" "labels 1, -1, none, 0 stored, nothing fetched"
printf '%s\t0\n%s\n%s\t-1\n' "$B/page/a1" "$B/page/a2" "$B/utf8.html" | { "$BIN" add --no-fetch - 2>"$tmp/err"; echo $? > "$tmp/rc"; }
runs=$((runs+1)); check_sanitizer "$tmp/err" "add -"
is "$(cat "$tmp/rc")" 0 "add from stdin"
is "$(q "SELECT string_agg(label::text, ',' ORDER BY url) FROM pglearn.examples WHERE url IN ('$B/page/a1', '$B/page/a2', '$B/utf8.html')")" "1,-1,-1" "0/absent never overwrite a label, explicit -1 does"
printf '  %s \t -1 \r\n' "$B/page/sp" > "$tmp/spaces.tsv"
pg add --no-fetch "$tmp/spaces.tsv"
is "$rc|$(col label /page/sp)" "0|-1" "blanks around TSV fields and CRLF line ends are ignored"
before=$(q "SELECT count(*) FROM pglearn.examples")
printf '%s\t1\n%s\t-1\n%s\tabc\n%s\t2\nnot a url\t1\n' "$B/page/b1" "$B/page/b2" "$B/page/b3" "$B/page/b4" > "$tmp/bad.tsv"
pg add "$tmp/bad.tsv"
is "$rc" 2 "bad label is a usage error"
like "$err" "bad.tsv:3: invalid label \"abc\"" "error names line 3"
like "$err" "bad.tsv:4: invalid label \"2\"" "error names line 4"
like "$err" "bad.tsv:5: not an http\(s\) URL" "error names line 5"
is "$(q "SELECT count(*) FROM pglearn.examples")" "$before" "nothing imported from a bad file"
printf '%s\t1\n%s\n' "$B/page/c1" "$B/404" > "$tmp/add2.tsv"
pg add $FAST "$tmp/add2.tsv"
is "$rc" 1 "add then crawl, one failure, exits 1"
is "$(col "title || '|' || label" /page/c1)" "Page c1|1" "add crawls new URLs"
is "$(col "label || '|' || error_count" /404)" "1|3" "add re-crawls a failed URL, keeps its label"

# ---- --pending and --stale ----
q "UPDATE pglearn.examples SET error_count = 5, fetch_error = 'HTTP status 503', http_status = 503 WHERE url = '$B/page/a4'"
pg crawl $FAST --pending
like "$err" "fetched" "crawl --pending runs"
is "$(q "SELECT string_agg(url || '=' || (fetched_at IS NOT NULL), ',' ORDER BY url) FROM pglearn.examples WHERE url LIKE '$B/page/a_'")" "$B/page/a1=true,$B/page/a2=true,$B/page/a3=true,$B/page/a4=false" "--pending fetches unfetched rows, skips 5 failures"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE fetched_at IS NULL")" 1 "only the 5-times-failed row is unfetched"
q "UPDATE pglearn.examples SET fetched_at = now() - interval '3 days' WHERE url = '$B/page/s1'"
pg crawl $FAST --stale 2
like "$err" "1 URLs, 1 fetched" "--stale picks the old row only"
is "$(col "fetched_at > now() - interval '1 minute'" /page/s1)" "t" "--stale refreshed it"

# ---- batches and concurrency ----
for i in $(seq 1 120); do echo "$B/page/n$i"; done > "$tmp/many.txt"
pg crawl $ALLOW --delay 0 --per-host 16 --jobs 16 --batch 50 --file "$tmp/many.txt"
is "$rc" 0 "120 pages in batches of 50"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '$B/page/n%' AND title = 'Page ' || substr(url, length('$B/page/') + 1)")" 120 "120 rows with the right titles"

# per-host politeness: 4 pages of 1 s at --per-host 2 take >= 2 s; --per-host 4 about 1 s
start=$(date +%s.%N)
pg crawl $ALLOW --delay 0 --per-host 2 --jobs 16 "$B/slow?s=1&a" "$B/slow?s=1&b" "$B/slow?s=1&c" "$B/slow?s=1&d"
t=$(elapsed "$start")
like "$(ge "$t" 1.9)" "^1$" "--per-host 2 serialises a host (4 x 1 s took $t s)"

# ---- SIGINT finishes what is in flight ----
for i in $(seq 1 20); do echo "$B/slow?s=1&sig=$i"; done > "$tmp/slow.txt"
runs=$((runs+1))
h0=$(hits /slow)
"$BIN" crawl $ALLOW --delay 0 --per-host 2 --jobs 2 --file "$tmp/slow.txt" 2>"$tmp/err" & cpid=$!
# interrupt once both first transfers have reached the server
for _ in $(seq 100); do [ "$(hits /slow)" -ge $((h0 + 2)) ] && break; sleep 0.05; done
kill -INT $cpid; wait $cpid; rc=$?
check_sanitizer "$tmp/err" "crawl (SIGINT)"
is "$rc" 1 "SIGINT exits 1"
like "$(cat "$tmp/err")" "2 URLs?, 2 fetched.*interrupted|interrupted" "summary says interrupted"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%sig=%' AND title = 'Slow page'")" 2 "the two transfers in flight were finished and stored"

# ---- database trouble ----
q "ALTER TABLE pglearn.examples ADD CONSTRAINT crawler_test_reject CHECK (title IS DISTINCT FROM 'Page reject')"
pg crawl $FAST "$B/page/r1" "$B/page/reject" "$B/page/r2"
is "$rc" 1 "a row the database refuses exits 1"
like "$err" "cannot store $B/page/reject: .*crawler_test_reject" "the refused row is named"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url IN ('$B/page/r1', '$B/page/r2', '$B/page/reject')")" 2 "the rest of its batch is stored"
q "ALTER TABLE pglearn.examples DROP CONSTRAINT crawler_test_reject"
for i in 1 2 3 4 5 6; do echo "$B/slow?s=0.5&rc=$i"; done > "$tmp/rc.txt"
runs=$((runs+1))
"$BIN" crawl $ALLOW --dbname application_name=crawler_rc_test --delay 0 --per-host 2 --jobs 2 --batch 2 --file "$tmp/rc.txt" 2>"$tmp/err" & cpid=$!
sleep 0.8
q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'crawler_rc_test'" >/dev/null
wait $cpid; rc=$?
check_sanitizer "$tmp/err" "crawl (reconnect)"
is "$rc" 0 "crawl survives a terminated database session"
like "$(cat "$tmp/err")" "reconnected" "it reconnects and rewrites the batch"
is "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%rc=%' AND title = 'Slow page'")" 6 "all rows stored after the reconnect"
# the database gone for good: earlier batches stay, exit 2, no crash
for i in $(seq 1 12); do echo "$B/slow?s=0.3&gone=$i"; done > "$tmp/gone.txt"
runs=$((runs+1))
"$BIN" crawl $ALLOW --dbname application_name=crawler_gone_test --delay 0 --per-host 2 --jobs 2 --batch 2 --file "$tmp/gone.txt" 2>"$tmp/err" & cpid=$!
sleep 0.8
psql -X -qAt -d postgres -c "ALTER DATABASE $DB ALLOW_CONNECTIONS false" \
	-c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'crawler_gone_test'" >/dev/null
wait $cpid; rc=$?
psql -X -qAt -d postgres -c "ALTER DATABASE $DB ALLOW_CONNECTIONS true" >/dev/null
check_sanitizer "$tmp/err" "crawl (database gone)"
is "$rc" 2 "database gone for good exits 2"
like "$(cat "$tmp/err")" "cannot reconnect" "says it cannot reconnect"
like "$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%gone=%'")" "^([2468]|10)$" "batches committed before stay (whole batches only)"
pg crawl $FAST --dbname "postgresql:///$DB?application_name=uri_test" "$B/page/uri"
is "$rc|$(col title /page/uri)" "0|Page uri" "--dbname takes a URI"

# ---- the address check: by default only public addresses are connected to ----
REFUSED_HINT="(use --allow-private or --allow-cidr to crawl private networks)"
robots_hits=$(hits /robots.txt)
pg crawl --delay 0 "$B/page/refused1"
is "$rc" 1 "by default a 127.0.0.1 URL fails (exit 1)"
is "$(col "concat_ws('|', coalesce(http_status::text, 'null'), fetch_error, coalesce(title, 'null'))" /page/refused1)" \
	"null|refused: 127.0.0.1 is a loopback address $REFUSED_HINT|null" "... its fetch_error is the refusal, not libcurl's \"couldn't connect\""
like "$err" "1 URLs, 0 fetched, 1 failed \(0 disallowed by robots.txt, 1 at refused addresses\)" "... counted as refused in the summary"
is "$(hits /page/refused1)|$(hits /robots.txt)" "0|$robots_hits" "... neither the page nor its robots.txt was requested"
pg crawl --delay 0 "http://localhost:$PORT/page/refused2" "http://[::ffff:127.0.0.1]:$PORT/page/refused3" \
	"http://2130706433:$PORT/page/refused4" "http://0x7f.1:$PORT/page/refused5"
like "$(q "SELECT fetch_error FROM pglearn.examples WHERE url = 'http://localhost:$PORT/page/refused2'")" \
	"^refused: (127\.0\.0\.1|::1) is a loopback address" "a name (localhost) is refused for the addresses it resolves to"
is "$(q "SELECT fetch_error FROM pglearn.examples WHERE url = 'http://[::ffff:127.0.0.1]:$PORT/page/refused3'")" \
	"refused: ::ffff:127.0.0.1 (IPv4-mapped 127.0.0.1) is a loopback address $REFUSED_HINT" "an IPv4-mapped IPv6 literal is refused as its IPv4"
is "$(q "SELECT string_agg(fetch_error, '|' ORDER BY url) FROM pglearn.examples WHERE url IN ('http://2130706433:$PORT/page/refused4', 'http://0x7f.1:$PORT/page/refused5')")" \
	"refused: 127.0.0.1 is a loopback address $REFUSED_HINT|refused: 127.0.0.1 is a loopback address $REFUSED_HINT" \
	"127.0.0.1 written as 2130706433 or 0x7f.1 is refused too"
is "$(hits /page/refused2)$(hits /page/refused3)$(hits /page/refused4)$(hits /page/refused5)" "0000" "... none of them was requested"

feed_hits=$(hits /feed.atom)
pg crawl --delay 0 --feed "$B/feed.atom"
is "$rc" 1 "a feed on 127.0.0.1 fails by default"
like "$err" "feed $B/feed.atom: refused: 127.0.0.1 is a loopback address" "... with the refusal on stderr"
is "$(hits /feed.atom)" "$feed_hits" "... and is not requested"

printf '%s\t1\n' "$B/page/refused-add" > "$tmp/refused.tsv"
pg add --delay 0 "$tmp/refused.tsv"
is "$rc|$(col "label || '|' || fetch_error" /page/refused-add)" "1|1|refused: 127.0.0.1 is a loopback address $REFUSED_HINT" \
	"add: the label is imported, the fetch refused by default"
pg add $FAST "$tmp/refused.tsv"
is "$rc|$(col "title || '|' || coalesce(fetch_error, 'null')" /page/refused-add)" "0|Page refused-add|null" "add --allow-cidr 127.0.0.1/32 fetches it"

pg crawl --delay 0 --allow-cidr 127.0.0.0/8 "$B/page/allowed1"
is "$rc|$(col title /page/allowed1)" "0|Page allowed1" "--allow-cidr 127.0.0.0/8 allows the fixture"
pg crawl --delay 0 --allow-private "$B/page/allowed2"
is "$rc|$(col title /page/allowed2)" "0|Page allowed2" "--allow-private allows it"
pg crawl --delay 0 --allow-cidr 10.0.0.0/8 --allow-cidr ::1/128 --allow-cidr 127.0.0.2/32 "$B/page/refused6"
is "$rc|$(col fetch_error /page/refused6)" "1|refused: 127.0.0.1 is a loopback address $REFUSED_HINT" "other --allow-cidr ranges do not allow 127.0.0.1"
pg crawl --allow-cidr 127.0.0.1/24 "$B/page/x"
like "$rc|$err" "^2\|pglearn crawl: --allow-cidr: \"127.0.0.1/24\" has bits set right of its prefix length" "--allow-cidr with host bits set is a usage error"
pg crawl --allow-cidr localhost "$B/page/x"
like "$rc|$err" "^2\|.*\"localhost\" is not an IP address or CIDR range" "--allow-cidr takes addresses, not names"
pg add --allow-cidr 127.0.0.1/33 "$tmp/refused.tsv"
like "$rc|$err" "^2\|pglearn add: --allow-cidr: .*at most 32" "add checks --allow-cidr too"

# a redirect from an allowed host to a refused one: [::1], loopback too
if [ "$PORT6" != 0 ]; then
	pg crawl $FAST "$B/goto?to=$B6/page/v6target"
	is "$rc" 1 "a redirect from 127.0.0.1 (allowed) to [::1] (not allowed) fails"
	is "$(q "SELECT concat_ws('|', http_status, fetch_error, coalesce(title, 'null'), coalesce(body, 'null'), coalesce(final_url, 'null')) FROM pglearn.examples WHERE url = '$B/goto?to=$B6/page/v6target'")" \
		"302|refused: ::1 is a loopback address, redirected to $B6/page/v6target $REFUSED_HINT|null|null|null" \
		"... refused at the hop: the last status, the refusal naming the hop; nothing of the target stored"
	is "$(hits /page/v6target)|$(q "SELECT count(*) FROM pglearn.examples WHERE url LIKE '%v6target%' AND url <> '$B/goto?to=$B6/page/v6target'")" "0|0" \
		"... the redirect target was never requested, and has no row"
	like "$err" "1 URLs, 0 fetched, 1 failed \(0 disallowed by robots.txt, 1 at refused addresses\)" "... counted as refused"
	pg crawl $FAST --allow-cidr ::1/128 "$B/goto?to=$B6/page/v6ok"
	is "$rc|$(q "SELECT title FROM pglearn.examples WHERE url = '$B/goto?to=$B6/page/v6ok'")|$(hits /page/v6ok)" "0|Page v6ok|1" \
		"with --allow-cidr ::1/128 as well the same redirect is followed (the [::1] fixture answers)"
else
	echo "# no IPv6 loopback here: the redirect tests are left out"
fi

# proxies from the environment are ignored: the "proxy" here is the fake Redis port
proxy="http://127.0.0.1:$REDIS_PORT"
like "$(http_proxy=$proxy curl -s -m 5 -o /dev/null -w '%{http_code}' "$B/page/noproxy-control" 2>&1)" "^(000|)$" \
	"control: curl itself would send the request to that http_proxy and fail"
export http_proxy=$proxy HTTP_PROXY=$proxy https_proxy=$proxy all_proxy=$proxy ALL_PROXY=$proxy no_proxy= NO_PROXY=
pg crawl $FAST "$B/page/noproxy"
unset http_proxy HTTP_PROXY https_proxy all_proxy ALL_PROXY no_proxy NO_PROXY
is "$rc|$(col title /page/noproxy)|$(hits /page/noproxy)" "0|Page noproxy|1" \
	"http_proxy, https_proxy and all_proxy are ignored: the page was fetched directly"

# ---- caps: feed items, titles and descriptions ----
pg crawl $FAST --max-feed-items 5 --feed "$B/manyitems.rss?n=12&port=$PORT"
is "$rc" 0 "a feed over --max-feed-items is not a failure (exit 0)"
like "$err" "feed $B/manyitems.rss\?n=12&port=$PORT: only the first 5 items taken, 7 more skipped \(--max-feed-items\)" \
	"... the skipped items are reported on stderr"
like "$err" "5 URLs, 5 fetched, .* 7 feed items over --max-feed-items" "... and counted in the summary"
is "$(q "SELECT string_agg(substr(url, length('$B/feed-item/') + 1), ',' ORDER BY url) FROM pglearn.examples WHERE url LIKE '$B/feed-item/many%'")" \
	"many0,many1,many2,many3,many4" "... only the feed's first 5 items were crawled"
pg crawl $FAST --feed "$B/manyitems.rss?n=1003&same=1&port=$PORT"
like "$rc|$err" "^0\|.*only the first 1000 items taken, 3 more skipped.* 3 feed items over --max-feed-items" "the default --max-feed-items is 1000"
pg crawl --max-feed-items 0 --feed "$B/feed.atom"
is "$rc" 2 "--max-feed-items 0 is a usage error"
pg add --max-feed-items 5 "$tmp/refused.tsv"
is "$rc" 2 "add has no feeds, so no --max-feed-items"

pg crawl $FAST --max-body 16M "$B/bigtitle.html"
is "$(col "concat_ws('|', length(title), octet_length(title), title = repeat('題', 1000), length(description), length(og_description), length(og_type), coalesce(og_image, 'null'), coalesce(favicon, 'null'), body)" /bigtitle.html)" \
	"1000|3000|t|10000|10000|100|null|null|small body" \
	"a 1.4-million-character title is cut to 1000 characters, descriptions to 10000, og:type to 100 (on character boundaries); over-long image and icon URLs dropped"

# ---- progress on a terminal ----
if command -v script >/dev/null; then
	runs=$((runs+1))
	script -qec "$BIN crawl $ALLOW --delay 0 --per-host 4 --file $tmp/many.txt" /dev/null > "$tmp/tty" 2>&1
	check_sanitizer "$tmp/tty" "crawl (terminal)"
	like "$(tr '\r' '\n' < "$tmp/tty")" "120/120 done, 0 failed, [0-9.]+ pages/s" "progress (done/total, failures, pages/s) on a terminal"
fi

# ---- the database refuses every write: exit 2, not "some failed" ----
# a read-only server (what a standby is; t/006_operations.pl has a real one)
PGOPTIONS="-c default_transaction_read_only=on" pg crawl $FAST "$B/page/ro1" "$B/page/ro2"
is "$rc" 2 "crawl against a read-only database exits 2"
like "$err" "giving up, the database is read-only .*target_session_attrs=read-write.*read-only transaction" "and says the database is read-only"
is "$(col title /page/ro1)" "" "nothing stored"
# a role that may read the table but not write it: refused by the write
# functions (not PUBLIC's), and, once it may call them, by the table
psql -X -q -c "CREATE ROLE crawler_ro_$$ LOGIN" -c "GRANT USAGE ON SCHEMA pglearn TO crawler_ro_$$" \
	-c "GRANT SELECT ON ALL TABLES IN SCHEMA pglearn TO crawler_ro_$$" >/dev/null
PGUSER=crawler_ro_$$ pg crawl $FAST "$B/page/perm1" "$B/page/perm2"
is "$rc" 2 "crawl as a role that may not call pglearn.record_fetch exits 2"
like "$err" "permission denied for function record_fetch.*the database refused every write \(2 rows\); nothing was stored" "and says every write was refused"
psql -X -q -c "GRANT EXECUTE ON FUNCTION pglearn.record_fetch(text, text, text, text, text, text, text, text, text, int4), pglearn.record_fetch_error(text, int4, text) TO crawler_ro_$$" >/dev/null
PGUSER=crawler_ro_$$ pg crawl $FAST "$B/page/perm1" "$B/page/perm2"
is "$rc" 2 "crawl as a role without INSERT on the table exits 2"
like "$err" "permission denied for table examples.*the database refused every write \(2 rows\); nothing was stored" "and says every write was refused"
# a policy that refuses some rows only: some stored, exit 1
psql -X -q -c "GRANT INSERT, UPDATE ON pglearn.examples TO crawler_ro_$$" \
	-c "GRANT USAGE ON SEQUENCE pglearn.examples_id_seq TO crawler_ro_$$" \
	-c "CREATE POLICY crawler_ro_read ON pglearn.examples FOR SELECT USING (true)" \
	-c "CREATE POLICY crawler_ro_update ON pglearn.examples FOR UPDATE USING (true)" \
	-c "CREATE POLICY crawler_ro_$$ ON pglearn.examples FOR INSERT WITH CHECK (url NOT LIKE '%/page/denied%')" \
	-c "ALTER TABLE pglearn.examples ENABLE ROW LEVEL SECURITY" >/dev/null
PGUSER=crawler_ro_$$ pg crawl $FAST "$B/page/rls1" "$B/page/denied1"
is "$rc|$(col title /page/rls1)|$(col title /page/denied1)" "1|Page rls1|" "a row refused among stored ones: exit 1, the others stored"
[ "$rc" = 1 ] || echo "$err" | sed 's/^/#   /'
psql -X -q -c "ALTER TABLE pglearn.examples DISABLE ROW LEVEL SECURITY" -c "DROP POLICY crawler_ro_read ON pglearn.examples" \
	-c "DROP POLICY crawler_ro_update ON pglearn.examples" \
	-c "DROP POLICY crawler_ro_$$ ON pglearn.examples" -c "DROP OWNED BY crawler_ro_$$" -c "DROP ROLE crawler_ro_$$" >/dev/null

# ---- check ----
pg check
like "$out" "^PGLEARN (OK|WARNING) - pglearn ${VERSION//./\\.}, " "check reports the extension's version, which is the command's"
like "$out" "\| standby=0 examples=[0-9]+ fetch_age=[0-9]+s;" "check perfdata (a primary: standby=0)"
# every fetch an hour and a half older, so the age thresholds below are
# far from the clock
q "UPDATE pglearn.examples SET fetched_at = fetched_at - interval '90 minutes'" >/dev/null
pg check --age-warning 1 --failed-warning 100
like "$rc|$out" "^1\|PGLEARN WARNING - .*newest fetch 1\.5 h ago \(over --age-warning 1 h\)" "check names the age threshold that tripped"
pg check --age-warning 0.01 --age-critical 1.25 --failed-warning 100
like "$rc|$out" "^2\|PGLEARN CRITICAL - .*newest fetch 1\.5 h ago \(over --age-critical 1\.25 h\)" "... and the critical one"
pg check --age-warning 2 --failed-warning 100
like "$rc|$out" "^0\|PGLEARN OK - .*newest fetch 1\.5 h ago, " "under the thresholds: OK, no threshold named"
pg check --failed-warning 0 --failed-critical 100
like "$rc|$out" "^1\|PGLEARN WARNING - .*% of [0-9]+ fetches in the last day failed \(over --failed-warning 0%\)" "check names the failed-share threshold that tripped"
is "$(echo "$out" | grep -c 'over --age')" 0 "... and no threshold that did not"
psql -X -q -c "UPDATE pg_extension SET extversion = '0.0' WHERE extname = 'pglearn'" >/dev/null
pg check
like "$rc|$out" "^1\|PGLEARN WARNING - extension pglearn 0\.0 but this command is ${VERSION//./\\.} \(ALTER EXTENSION pglearn UPDATE" "an extension of another version than the command is a WARNING"
psql -X -q -c "UPDATE pg_extension SET extversion = '$VERSION' WHERE extname = 'pglearn'" >/dev/null
psql -X -q -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:$REDIS_PORT/0'"
pg check
like "$out" "redis ok.*redis=1" "check pings Redis"
psql -X -q -c "ALTER DATABASE $DB SET pglearn.redis_url = 'redis://127.0.0.1:1'"
pg check
like "$out" "^PGLEARN WARNING .*redis=0" "Redis down is a WARNING"
is "$rc" 1 "WARNING exits 1"
pg check --redis-critical
is "$rc" 2 "--redis-critical makes it CRITICAL"
createdb "${DB}_bare"
pg check --dbname "dbname=${DB}_bare"
like "$out" "^PGLEARN CRITICAL - extension pglearn is not installed" "check in a database without the extension is CRITICAL"
is "$rc" 2 "CRITICAL exits 2"
dropdb --if-exists "${DB}_bare" >/dev/null 2>&1
pg check --dbname "host=127.0.0.1 port=1 connect_timeout=2"
like "$out" "^PGLEARN CRITICAL - database unreachable" "check with no database is CRITICAL"
pg check --age-warning x
is "$rc" 3 "bad check option is UNKNOWN (3)"

# ---- annotate ----
# its own database: a small labelled set whose most uncertain article is known
ADB="${DB}_annotate"
qa() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$ADB" -c "$1"; }
# run annotate with KEYS on a pipe as its input; sets rc, out, err
pg_keys() {
	local keys=$1
	shift
	runs=$((runs+1))
	printf '%s' "$keys" | "$BIN" annotate --dbname "$ADB" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	check_sanitizer "$tmp/err" "annotate $*"
}
# the URLs annotate showed, one per line, in order
shown() { sed -n 's/^score [0-9.]*  \(.*\)  ([0-9]* \(to label\|unlabelled\))$/\1/p' "$tmp/out"; }
# SQL literal list of the shown URLs, in order
dollar_list() { local sep="" u; for u in "$@"; do printf '%s$u$%s$u$' "$sep" "$u"; sep=", "; done; }
pg annotate --help
like "$rc|$out" "^0\|.*p positive.*--refit-every" "annotate --help lists the keys and options"
pg annotate --refit-every x
is "$rc" 2 "annotate: bad option value is a usage error"
pg annotate --dbname "host=127.0.0.1 port=1 connect_timeout=2"
like "$rc|$err" "^2\|.*cannot connect" "annotate: unreachable database exits 2"
createdb "$ADB"
pg_keys "e"
like "$rc|$err" "^2\|.*extension is not installed" "annotate without the extension exits 2"
# a URL full of shell syntax and a title with an escape sequence, about
# both topics: the article the model is least sure of
odd_url='https://odd.example.net/q?a=1&b=$(touch${IFS}'"$tmp"'/pwned);echo`id`'
psql -X -q -v ON_ERROR_STOP=1 -d "$ADB" -v odd="$odd_url" >/dev/null <<'SQL'
CREATE EXTENSION pglearn;
INSERT INTO pglearn.examples (url, title, body, label)
SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
       CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL part ' || i ELSE 'Match report ' || i END,
       CASE WHEN i % 2 = 0 THEN 'index vacuum planner' ELSE 'goal striker league' END,
       CASE WHEN i = 2 THEN 1 END
FROM generate_series(1, 30) i;
INSERT INTO pglearn.examples (url, title, body)
VALUES (:'odd', E'Match report on PostgreSQL tuning \x1b[31mred', 'index vacuum goal striker');
SQL
pg_keys "e"
is "$rc" 1 "annotate: no model and one class labelled exits 1"
like "$err" "fit needs labelled rows of both classes.*no model to rank articles with" "annotate: no model, clear message"
qa "UPDATE pglearn.examples SET label = CASE WHEN id % 2 = 0 THEN 1 ELSE -1 END WHERE id <= 20" >/dev/null
pg_keys "e"
like "$rc|$out" "^0\|model \"default\" does not exist yet: fitting" "annotate fits a missing model first"
is "$(qa "SELECT count(*) || '|' || count(*) FILTER (WHERE name = 'default') FROM pglearn.models")" "1|1" "... under the default name (pglearn.default_model unset)"
like "$out" "fitting \"default\" \.\.\. n 20, accuracy [0-9.]+, f1 [0-9.]+, roc_auc [0-9.]+ \([0-9]+ scores changed\)" "metrics line, and the default model rescores"
printf '#!/bin/sh\nprintf "%%s\\n" "$1" >> "%s"\n' "$tmp/browser.args" > "$tmp/browser.sh"
chmod 755 "$tmp/browser.sh"
BROWSER="$tmp/browser.sh" pg_keys "n p x s h e" --open
is "$rc" 0 "annotate: n p x s h e exits 0"
mapfile -t seen < <(shown)
is "${#seen[@]}|${seen[0]:-}" "4|$odd_url" "four articles shown (n, p, s, then h e), the least certain first"
for _ in $(seq 20); do [ "$(wc -l < "$tmp/browser.args" 2>/dev/null)" = 4 ] && break; sleep 0.1; done
is "$(cat "$tmp/browser.args" 2>/dev/null)" "$(printf "%s\n" "${seen[@]}")" "--open passes each URL to \$BROWSER as one argument"
is "$(ls "$tmp/pwned" 2>/dev/null)" "" "no shell ran the URL"
is "$(grep -c $'\x1b' "$tmp/out")" 0 "no escape sequence from a title reaches the terminal"
like "$out" "Match report on PostgreSQL tuning  \[31mred" "title shown, control character blanked"
like "$out" "features: [^ ]+ [+-][0-9.]+" "supporting features shown"
list=$(dollar_list "${seen[@]}")
is "$(qa "SELECT string_agg(coalesce(label::text, 'null'), ',' ORDER BY array_position(ARRAY[$list], url)) FROM pglearn.examples WHERE url IN ($list)")" "-1,1,null,null" "n labels -1, p labels 1, s and e label nothing"
like "$out" "unknown key \"x\" \(h for help\)" "unknown key: a message, then the same article again"
like "$out" "s  skip: .*e  exit" "h prints the key list"
is "$(qa "SELECT count(*) FROM pglearn.models")" 3 "a refit after each label (models 1 -> 3)"
is "$(qa "SELECT string_agg(jsonb_array_length(metrics->'grid') || ':' || (params->>'C' = (SELECT params->>'C' FROM pglearn.models ORDER BY id LIMIT 1)), ',' ORDER BY id) FROM pglearn.models")" \
	"5:true,1:true,1:true" "the first fit searches fit()'s C grid; refits between labels reuse the C it chose"
like "$out" "2 labelled \(1 positive, 1 negative\), 1 skipped, 2 refits" "session summary"
pg_keys "$(printf 's%.0s' $(seq 30))" --no-rescore
mapfile -t seen < <(shown)
is "$rc|${#seen[@]}|$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)" "0|9|9" "skipping all: each of the 9 left shown once"
like "$out" "nothing left to label \(but the articles skipped in this session\)" "nothing left to label"
pg_keys "p p p" --limit 1 --refit-every 0 --no-rescore
like "$rc|$out" "^0\|.*1 labels given \(--limit\).*fitting.*1 labelled \(1 positive, 0 negative\), 0 skipped, 1 refit$" "--limit 1, and --refit-every 0 refits once at the end"
is "$(qa "SELECT count(*) FROM pglearn.models")" 4 "... one more model"
is "$(qa "SELECT jsonb_array_length(metrics->'grid') FROM pglearn.models ORDER BY id DESC LIMIT 1")" 5 "... and the refit at the end searches the C grid"
pg_keys "e" --params '{"C": [0.1, 1'
like "$rc|$err" "^2\|.*bad --params: invalid input syntax for type json" "annotate: --params that is not JSON is a usage error"
pg_keys "e" --params '[1]'
like "$rc|$err" "^2\|.*--params must be a JSON object" "annotate: --params must be an object"
pg_keys "s" --model news --features 0
like "$rc|$out" "^0\|model \"news\" does not exist yet.*skipped" "--model names another model; end of input exits 0"
is "$(echo "$out" | grep -c 'features:')" 0 "--features 0 shows none"
runs=$((runs+1))
r=$(python3 "$here/tty_keys.py" "$tmp/tty" "[e]xit? " "se" -- "$BIN" annotate --dbname "$ADB" --no-rescore 2>&1)
check_sanitizer "$tmp/tty" "annotate (terminal)"
like "$r|$(tr -d '\r' < "$tmp/tty" | tr '\n' ' ')" "^exit=0.icanon=1 echo=1\|.*xit\? s skipped .*xit\? e" "terminal: single keys without Enter, mode restored on exit"
runs=$((runs+1))
r=$(python3 "$here/tty_keys.py" "$tmp/tty" "[e]xit? " "s^C" -- "$BIN" annotate --dbname "$ADB" --no-rescore 2>&1)
check_sanitizer "$tmp/tty" "annotate (terminal, SIGINT)"
like "$r" "^signal=2.icanon=1 echo=1$" "terminal: Ctrl-C ends it by SIGINT, mode restored"
# a row inserted by hand, not through label() or crawl: shown, never opened
qa "INSERT INTO pglearn.examples (url, title, body) VALUES ('file:///etc/passwd', 'Local file', 'index goal')" >/dev/null
rm -f "$tmp/browser.args"
BROWSER="$tmp/browser.sh" pg_keys "$(printf 's%.0s' $(seq 30))" --open --no-rescore
mapfile -t seen < <(shown)
sleep 0.5
like "$(printf '%s\n' "${seen[@]}" | grep -c '^file:')|$(grep -c '^file:' "$tmp/browser.args")|$err" "^1\|0\|.*not opening a URL that is not http" "--open refuses a non-http(s) URL"
dropdb --if-exists "$ADB" >/dev/null 2>&1

# ---- main content: t/extract_test.sh checks every page of t/pages/; one of them crawled end to end ----
python3 -u -m http.server -b 127.0.0.1 -d "$here/pages" 0 >"$tmp/pages.log" 2>&1 &
pages_pid=$!; for _ in $(seq 50); do PP=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$tmp/pages.log"); [ -n "$PP" ] && break; sleep 0.1; done
pg crawl $FAST "http://127.0.0.1:$PP/blog.html"; kill "$pages_pid"
is "$(q "SELECT body FROM pglearn.examples WHERE url = 'http://127.0.0.1:$PP/blog.html'")" "$(cat "$here/pages/blog.txt")" "crawl stores a page's main text, without its navigation, sidebar and footer (t/pages/blog.html)"

# ---- all text valid, sanitizers quiet ----
is "$(q "SELECT count(*) FROM pglearn.examples WHERE body LIKE '%' || chr(65533) || '%' AND url NOT LIKE '%malformed%'")" 0 "no replacement characters outside the malformed page"
is "$sanitizer_reports" 0 "no AddressSanitizer/UBSan/LeakSanitizer reports in $runs runs of $(basename "$BIN")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
