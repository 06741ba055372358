#!/usr/bin/env bash
# t/demo/run.sh: the demo (t/demo.sh) runs to its end and shows what README
# "Try it" says it shows, including the lines of README's excerpt.
#
# Runs t/demo.sh once and checks its output step by step: the crawl of the
# feed (9 fetched, the broken page failed, the moved page's final URL, the
# Japanese title), refresh, to_label, recommend for both lists, the
# features, similar, label_conflicts naming the article labelled by
# mistake, publish and published() with the same members, check OK with
# Redis, and the accuracy part.  About 15 s.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. t/lib/tap.sh			# report STATUS DESCRIPTION [DIAGNOSTIC], finish

log=$(mktemp /tmp/pglearn-demo-test.XXXXXX)
trap 'rm -f "$log"' EXIT
bash t/demo.sh >"$log" 2>&1
report $? "bash t/demo.sh exits 0" "$(tail -n 20 "$log")"

has() {							# has REGEX DESCRIPTION: a line of the output matches
	grep -qE -- "$1" "$log"
	report $? "$2" "wanted a line matching /$1/"
}
# the text between two "== " headings that contain FROM and TO
section() {
	sed -n "/^== .*$1/,/^== .*$2/p" "$log"
}

has '^pglearn add: 14 URLs: 14 new, 0 relabelled, 0 unchanged$' "pglearn add stores the 14 labelled URLs"
has '^pglearn crawl: 10 URLs, 9 fetched, 1 failed .* 1 feed items already fetched, .* 10 rows written, 0 rejected' \
	"crawl --feed: 10 new items, the broken page failed, the already fetched one skipped (README's excerpt)"
has '^ http://127.0.0.1:PORT/2019/pg-wal +\| +200 \| Write-ahead logging, checkpoints and crash recovery \| http://127.0.0.1:PORT/articles/pg-wal.html' \
	"the moved page: fetched through its redirect, final_url the new address"
has '^ http://127.0.0.1:PORT/articles/broken.html +\| +500 \| HTTP status 500' "the broken page: status 500 and its error"
has 'PostgreSQLのインデックス入門' "the Japanese page's title"
has '^NOTICE:  refresh: model "default" fitted on 14 rows' "refresh fits on the 14 labels and rescores"
[ "$(section 'what to label next' 'recommendations' | grep -c '^ *[0-9]* | http')" = 3 ]
report $? "to_label shows 3 articles" "$(section 'what to label next' 'recommendations')"
rec=$(section 'recommendations' 'why the top')
[ "$(printf '%s\n' "$rec" | grep -cE '^ +[0-9]+ \| http://127.0.0.1:PORT/articles/(pg-|db-)')" = 5 ]
report $? "recommend('general', 5): five database articles" "$rec"
printf '%s\n' "$rec" | grep -qE '^ +1 \| http://127.0.0.1:PORT/ja/postgres-index.html'
report $? "recommend('japanese', ...): the Japanese page" "$rec"
[ "$(section 'why the top' 'articles similar' | grep -cE '^ [a-z]:[^ ]+ +\| +0\.[0-9]+')" = 5 ]
report $? "supporting_features: 5 features with positive contributions" "$(section 'why the top' 'articles similar')"
[ "$(section 'articles similar' 'labels the model' | grep -c '^ http://127.0.0.1:PORT/')" = 3 ]
report $? "similar: 3 articles" "$(section 'articles similar' 'labels the model')"
conflicts=$(section 'labels the model' 'publish the')
[ "$(printf '%s\n' "$conflicts" | grep -c 'http://127.0.0.1:PORT/')" = 1 ] &&
	printf '%s\n' "$conflicts" | grep -qE '^ http://127.0.0.1:PORT/articles/football-wrong.html \| Derby report: .* \| +1 \| 0\.[0-4]'
report $? "label_conflicts: exactly the article labelled 1 by mistake, scored below 0.5 (README's excerpt)" "$conflicts"
pub=$(section 'publish the' 'monitoring')
members() { printf '%s\n' "$1" | grep -oE 'http://127.0.0.1:PORT/[^ ]+' | tr '\n' ' '; }
[ "$(members "$rec" | cut -d' ' -f1-5)" = "$(members "$pub" | cut -d' ' -f1-5)" ] && [ -n "$(members "$pub")" ]
report $? "published() reads back from Redis the five articles recommend() gave" "$pub"
has '^PGLEARN OK - pglearn [0-9.]+, 24 examples, newest fetch [0-9]+ s ago, 4\.2% of 24 fetches in the last day failed, redis ok' \
	"pglearn check: OK, 24 examples, the broken page's failure counted, Redis answering (README's excerpt)"
has '^\(exit 0\)$' "... exit 0"
has '^ f1 +\| 0\.9[89]' "accuracy part: fit() on the SpamAssassin corpus reaches F1 0.98 or more"
has '"accuracy": 0\.9[89]' "... and the hidden labels agree with the model 98 % or more"
has '^== done; the cluster, the site and Redis are removed$' "the demo ends and cleans up"

finish
