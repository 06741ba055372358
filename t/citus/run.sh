#!/usr/bin/env bash
# t/citus/run.sh: pglearn on a Citus cluster gives what it gives on one node.
#
# Starts a Citus 13.2 cluster of its own (t/citus/cluster.sh: a coordinator
# and 2 workers on 127.0.0.1 at free ports, as the unprivileged user of
# t/lib/cluster.sh, stopped and removed on exit), building Citus from
# ../shared/vendor/citus when it is not installed (as root).  Without
# Citus and without a way to build it, it prints
# "0 passed, 0 failed, skipped: REASON" and exits 0: skipped, never passed.
#
# The same rows of the SpamAssassin corpus (t/lib/spam_corpus.sh) go into
# two databases on the coordinator's server: one without Citus (one node),
# and one where pglearn.distribute() spreads them over the workers after
# the first rows are in; the later rows arrive after distribute() and are
# scored by the trigger on the workers.  Then the two are compared: ids,
# fit() metrics, the stored model, every stored score bit for bit (after
# the trigger, rescore(), a refit and refresh()), classify over examples,
# uncertain(name), similar, label_conflicts, top_features,
# supporting_features, label_stats, search.  What does not run distributed
# (uncertain(NULL), to_label, recommend(), so publish()) must say so in its
# error.  EXPLAIN (and auto_explain, for the statements inside rescore()
# and fit()) must show the work done as Citus tasks on both workers.
# distribute() must refuse without Citus and on a worker.
#
# Needs the pglearn extension installed (make install) and the corpus
# (npm, or t/.cache).  Prints TAP lines and "N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/../.."
. t/lib/cluster.sh
. t/lib/tap.sh			# report, is, like, finish
. t/lib/spam_corpus.sh
. t/citus/cluster.sh

ROWS_BEFORE=${CITUS_ROWS_BEFORE:-900}	# loaded before distribute()
ROWS_AFTER=${CITUS_ROWS_AFTER:-300}		# inserted afterwards, scored on the workers
SHARDS=8
SINGLE=pglearn_single
WORK=$(mktemp -d /tmp/pglearn-citus-test.XXXXXX)
chmod 755 "$WORK"

cleanup() {
	redis_stop
	citus_stop
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bail() {						# a step every later check depends on failed
	report 1 "$1" "${2:-}"
	finish
}

if ! citus_ensure_installed; then
	echo "0 passed, 0 failed, skipped: $CITUS_SKIP_REASON"
	exit 0
fi
csv=$(spam_corpus_csv) || bail "the SpamAssassin corpus is available"
cp "$csv" "$WORK/corpus.csv" && chmod 644 "$WORK/corpus.csv"
citus_start || bail "a coordinator and $CITUS_WORKERS workers start"
echo "# coordinator 127.0.0.1:$CITUS_COORD_PORT, workers ${CITUS_WORKER_PORTS[*]}"

# c SQL: on the Citus database; s SQL: on the one-node database; w SQL: on the first worker
c() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$CITUS_DB" "$@" 2>&1; }
s() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$SINGLE" "$@" 2>&1; }
w() { psql -X -qAt -v ON_ERROR_STOP=1 -p "${CITUS_WORKER_PORTS[0]}" -d "$CITUS_DB" "$@" 2>&1; }
# same DESCRIPTION SQL: the query gives the same non-empty, error-free text on both
same() {
	local one dist
	one=$(s -c "$2")
	dist=$(c -c "$2")
	if [ -n "$one" ] && [ "$one" = "$dist" ] && ! printf '%s' "$one" | grep -q '^ERROR'; then
		report 0 "$1"
	else
		report 1 "$1" "one node: $(printf '%s' "$one" | head -c 600)"$'\n'"citus:    $(printf '%s' "$dist" | head -c 600)"
	fi
}

psql -X -q -d postgres -c "CREATE DATABASE $SINGLE" >/dev/null || bail "the one-node database is created"
for db in "$SINGLE" "$CITUS_DB"; do
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null 2>"$WORK/load.err" <<SQL || bail "pglearn and the corpus load into $db" "$(cat "$WORK/load.err")"
CREATE EXTENSION pglearn;
CREATE TABLE public.mail (n serial, url text, title text, body text, label int4, split text);
\copy public.mail (url, title, body, label, split) FROM '$WORK/corpus.csv' WITH (FORMAT csv, HEADER true)
-- 16 hosts instead of one, so per-host limits and similar() have hosts to tell apart
UPDATE public.mail SET url = regexp_replace(url, '^https://mail\.example/(.)', 'https://\1.mail.example/\1');
INSERT INTO pglearn.examples (url, title, body, label)
-- every 97th label the wrong way round, for label_conflicts
SELECT url, title, body, CASE WHEN split = 'train' THEN CASE WHEN n % 97 = 0 THEN -label ELSE label END END
  FROM public.mail WHERE n <= $ROWS_BEFORE ORDER BY n;
SQL
done

# ------------------------------------------------------------ distribute()

like "$(s -c "SELECT * FROM pglearn.distribute()")" \
	'ERROR:  pglearn.distribute\(\) needs Citus, which is not installed in this database' \
	"distribute() refuses in a database without Citus"
like "$(w -c "SELECT * FROM pglearn.distribute()")" \
	'ERROR:  pglearn.distribute\(\) must run on the Citus coordinator' \
	"distribute() refuses on a worker"
like "$(c -c "SELECT * FROM pglearn.distribute(0)")" 'ERROR:  shard_count must be a positive integer' \
	"distribute() refuses a shard count of 0"
out=$(c -c "SELECT relation || ' ' || placement FROM pglearn.distribute($SHARDS)")
like "$out" '^pglearn.lists reference table' "distribute() makes lists a reference table"
like "$out" 'pglearn.models reference table' "... models a reference table"
like "$out" 'pglearn.publications reference table' "... publications a reference table"
like "$out" 'pglearn.examples distributed by url' "... and distributes examples by url"
is "$(c -c "SELECT count(*) FROM pglearn.distribute()")" 0 "distribute() again does nothing"
is "$(c -c "SELECT count(*) || ' shards on ' || count(DISTINCT p.nodeport) || ' nodes'
			 FROM pg_dist_shard d JOIN pg_dist_shard_placement p USING (shardid)
			WHERE d.logicalrelid = 'pglearn.examples'::regclass AND p.nodeport IN (${CITUS_WORKER_PORTS[0]}, ${CITUS_WORKER_PORTS[1]})")" \
	"$SHARDS shards on 2 nodes" "examples has $SHARDS shards, on both workers"
is "$(c -c "SELECT count(*) FROM pg_dist_partition p JOIN pg_class r ON r.oid = p.logicalrelid
			 WHERE r.relnamespace = 'pglearn'::regnamespace AND p.partmethod = 'h'
			   AND p.colocationid <> (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'pglearn.examples'::regclass)")" \
	0 "every table distributed by url is co-located with examples"
same "the stored rows, ids and labels are the same" \
	"SELECT count(*) || ' ' || md5(string_agg(id || ' ' || url || ' ' || coalesce(label::text, '-'), ',' ORDER BY url)) FROM pglearn.examples"

# ------------------------------------------------------------ fit, scoring by the trigger

same "fit() gives the same metrics" \
	"SELECT pglearn.fit('default', params => '{\"C\": [0.1, 1, 10]}') - 'fit_time_ms'"
same "the stored model is the same" \
	"SELECT (pglearn.model_info(m.model) - 'trained_at')::text
			|| (SELECT md5(string_agg(w.index || ':' || w.weight, ',' ORDER BY w.index)) FROM pglearn.weights(m.model) w)
	   FROM pglearn.models m ORDER BY m.id"
for db in "$SINGLE" "$CITUS_DB"; do
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null 2>"$WORK/load.err" <<SQL || report 1 "later rows insert into $db" "$(cat "$WORK/load.err")"
-- most by INSERT, every tenth as the crawler writes: add() the URL, then record_fetch()
INSERT INTO pglearn.examples (url, title, body)
SELECT url, title, body FROM public.mail
 WHERE n > $ROWS_BEFORE AND n <= $ROWS_BEFORE + $ROWS_AFTER AND n % 10 <> 0 ORDER BY n;
SELECT pglearn.add(url) FROM public.mail
 WHERE n > $ROWS_BEFORE AND n <= $ROWS_BEFORE + $ROWS_AFTER AND n % 10 = 0 ORDER BY n;
SELECT pglearn.record_fetch(url, title, NULL, NULL, 'article', NULL, NULL, body, url, 200) FROM public.mail
 WHERE n > $ROWS_BEFORE AND n <= $ROWS_BEFORE + $ROWS_AFTER AND n % 10 = 0 ORDER BY n;
SQL
done
scores="SELECT count(score) || ' of ' || count(*) || ' ' || md5(string_agg(url || '=' || coalesce(float8send(score)::text, '-'), ',' ORDER BY url)) FROM pglearn.examples"
is "$(c -c "SELECT count(score) FROM pglearn.examples")" "$ROWS_AFTER" \
	"the trigger scored every row inserted after distribute() (on the workers)"
same "every score the trigger stored is the same, bit for bit" "$scores"

# ------------------------------------------------------------ rescore

same "rescore() changes as many scores" "SELECT pglearn.rescore()"
same "every stored score is the same after rescore(), bit for bit" "$scores"
same "a refit with another C gives the same metrics" "SELECT pglearn.fit('default', params => '{\"C\": 100}') - 'fit_time_ms'"
same "rescore() after it changes as many scores" "SELECT pglearn.rescore(batch_size => 250)"
same "every stored score is the same after the refit and rescore, bit for bit" "$scores"
same "refresh() says the same" "CALL pglearn.refresh(params => '{\"C\": [1, 10]}')"
same "every stored score is the same after refresh(), bit for bit" "$scores"

# ------------------------------------------------------------ work runs where the rows are

# EXPLAIN of classify over examples: one Citus task per shard, classify in the task's query
plan=$(c -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT url, pglearn.classify('default', url, title, pglearn.article_text(description, body)) FROM pglearn.examples")
like "$plan" "Task Count: $SHARDS" "EXPLAIN of classify over examples shows a task per shard"
like "$plan" 'Query: SELECT url, pglearn\.classify\(' "... each task classifies on its worker"
like "$plan" 'FROM pglearn\.examples_[0-9]+ examples WHERE true' "... over its shard"
# the statements rescore() and cross_validate() (fit()'s feature extraction) run, as
# the workers log them: auto_explain cannot show them (explaining a nested
# statement over Citus's intermediate results fails with "cache lookup failed for type")
log_workers() {					# log_workers all|none
	local port
	for port in "${CITUS_WORKER_PORTS[@]}"; do
		psql -X -qAt -p "$port" -d "$CITUS_DB" -c "ALTER SYSTEM SET log_statement = '$1'" \
			-c "SELECT pg_reload_conf()" >/dev/null
	done
	sleep 0.5
}
on_workers() {					# on_workers REGEX: on how many workers' logs a statement matches
	local i found=0
	for i in $(seq "$CITUS_WORKERS"); do
		grep -aqE "$1" "$CITUS_DIR/worker$i.log" && found=$((found + 1))
	done
	echo "$found"
}
c -c "SELECT pglearn.fit('default', params => '{\"C\": 10}') - 'fit_time_ms'" >/dev/null
s -c "SELECT pglearn.fit('default', params => '{\"C\": 10}') - 'fit_time_ms'" >/dev/null
log_workers all
changed=$(c -c "SELECT pglearn.rescore()")
c -c "SELECT pglearn.cross_validate(params => '{\"C\": 1}') IS NOT NULL" >/dev/null
log_workers none
is "$changed" "$(s -c "SELECT pglearn.rescore()")" "rescore() after a refit changes as many scores"
is "$(on_workers '(statement|execute <unnamed>): UPDATE pglearn\.examples_[0-9]+ e SET score = s\.p FROM \(SELECT x\.url, pglearn\.classify\(')" \
	"$CITUS_WORKERS" "rescore() updates the shards on every worker, classify on the worker"
is "$(on_workers '(statement|execute <unnamed>): SELECT pglearn\.features\(url, title, ')" \
	"$CITUS_WORKERS" "fit()'s feature extraction (cross_validate) runs on every worker's shards"
same "every stored score is the same after it, bit for bit" "$scores"

# ------------------------------------------------------------ the SQL surface through the coordinator

same "classify(name, ...) over every row is the same, bit for bit" \
	"SELECT md5(string_agg(float8send(pglearn.classify('default', url, title, pglearn.article_text(description, body)))::text, ',' ORDER BY url)) FROM pglearn.examples"
same "cross_validate() is the same" "SELECT pglearn.cross_validate(params => '{\"C\": 10}')"
same "uncertain(name, 20) is the same" "SELECT * FROM pglearn.uncertain('default', 20)"
same "uncertain(name, 20, per_host => NULL) is the same" "SELECT * FROM pglearn.uncertain('default', 20, NULL)"
for u in $(s -c "SELECT url FROM pglearn.examples WHERE label = 1 ORDER BY id LIMIT 2; SELECT url FROM pglearn.examples WHERE label IS NULL ORDER BY id DESC LIMIT 1"); do
	same "similar('${u##*/}') is the same" "SELECT * FROM pglearn.similar('$u', 10)"
	same "supporting_features('${u##*/}') is the same" "SELECT * FROM pglearn.supporting_features('$u', 10)"
done
same "label_conflicts is the same" "SELECT url, title, label, score FROM pglearn.label_conflicts ORDER BY url"
same "top_features is the same" "SELECT * FROM pglearn.top_features('default', 20)"
same "label_stats is the same" "SELECT * FROM pglearn.label_stats"
if [ -n "$(s -c "SELECT to_regprocedure('pglearn.search(text, int4)')")" ]; then
	same "search() is the same" "SELECT * FROM pglearn.search('free money', 20)"
fi

# ------------------------------------------------------------ what does not run distributed says so

is "$(s -c "SELECT count(*) FROM pglearn.uncertain(NULL, 5)")" 5 "uncertain(NULL, 5) answers on one node"
like "$(c -c "SELECT * FROM pglearn.uncertain(NULL, 5)")" \
	'ERROR:  uncertain\(NULL, \.\.\.\) and to_label does not run on a distributed pglearn.examples' \
	"... and says on Citus that it does not run there"
out=$(c -c "\\set VERBOSITY verbose" -c "SELECT * FROM pglearn.to_label LIMIT 5")
like "$out" '^ERROR:  0A000: uncertain\(NULL, \.\.\.\) and to_label does not run' "to_label says so too (feature_not_supported)"
like "$out" "HINT:  Name the model: pglearn.uncertain\\('name', k\\)" "... with a hint at what does"
for list in $(s -c "SELECT name FROM pglearn.lists ORDER BY name"); do
	like "$(c -c "SELECT * FROM pglearn.recommend('$list', 10, NULL, 0)")" \
		'ERROR:  recommend\(\) does not run on a distributed pglearn.examples' \
		"recommend('$list') says on Citus that it does not run there"
done
if redis_start "$WORK/redis" 777; then
	redis="SET pglearn.redis_url = 'unix://$WORK/redis/redis.sock'"
	is "$(s -c "$redis" -c "SELECT pglearn.publish('general', 5)")" 5 "publish('general', 5) publishes 5 on one node"
	like "$(c -c "$redis" -c "SELECT pglearn.publish('general', 5)")" 'ERROR:  publish\(\) does not run on a distributed' \
		"... and says on Citus that it does not run there (it publishes recommend()'s list)"
	redis_stop
else
	report 1 "a Redis starts for publish()" "$(cat "$WORK/redis/redis.log" 2>/dev/null)"
fi

finish
