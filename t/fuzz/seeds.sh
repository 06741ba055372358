#!/usr/bin/env bash
# t/fuzz/seeds.sh: write the seed corpora of the fvec and model targets
# (t/fuzz/corpus/fvec/*.bin and article.txt, t/fuzz/corpus/model/*) from
# real values: fvec_send of the regression tests' vectors and of
# features(), and model_out/model_send of models trained on the regression
# tests' toy data with each solver (model format 2; the *_format1 seeds are
# the same models as pglearn 0.2 wrote them, kept as they are: train()
# writes format 1 only when told no feature settings).  Needs a cluster in PG* with pglearn
# installed; run it again only when a form changes (the other fvec text
# seeds are hand-written).
set -euo pipefail
cd "$(dirname "$0")/../.."
db=pglearn_seeds_$$
trap 'dropdb --if-exists "$db" >/dev/null 2>&1' EXIT
createdb "$db"
psql -X -q -d "$db" -c "CREATE EXTENSION pglearn"
mkdir -p t/fuzz/corpus/fvec t/fuzz/corpus/model

# seed NAME.EXT SQL-returning-bytea: one file from one bytea
seed() {
	psql -X -A -t -d "$db" -c "SELECT encode(($2), 'hex')" |
		python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$1"
}
fvec=t/fuzz/corpus/fvec
seed $fvec/empty.bin "pglearn.fvec_send('{}')"
seed $fvec/basic.bin "pglearn.fvec_send('{0:1,2:0.5,2147483647:-3}')"
seed $fvec/awkward.bin "pglearn.fvec_send(format('{1:%s,2:%s,3:%s,4:%s,5:%s}',
	(1::float4 / 3)::text, '1e-45', '3.4028235e38', '-0.1', '1.17549435e-38')::pglearn.fvec)"
seed $fvec/features.bin "pglearn.fvec_send(pglearn.features('https://example.com/pg-tuning?utm_source=x',
	'Tuning PostgreSQL', 'vacuum, planner, indexes', 12))"
# 26 entries: past the targets' limit of 20, so mutants reach it from both sides
article="pglearn.features('https://www.postgresql.org/docs/15/runtime-config-resource.html',
	'PostgreSQL: Documentation: 15: 20.4. Resource Consumption',
	'shared_buffers sets the amount of memory the database server uses for shared memory buffers', 12)"
seed $fvec/article.bin "pglearn.fvec_send($article)"
psql -X -A -t -d "$db" -c "SELECT $article" | tr -d '\n' >$fvec/article.txt

psql -X -q -d "$db" <<'SQL'
CREATE TABLE toy (f pglearn.fvec, label int4);
INSERT INTO toy VALUES
    ('{1:1,2:1}', 1), ('{1:1,3:1}', 1), ('{1:0.5,2:1}', 1),
    ('{2:0.5,4:1}', -1), ('{4:1,5:1}', -1), ('{4:1}', -1);
CREATE TABLE seeds AS
SELECT name, (SELECT pglearn.train(f, label, params) FROM toy) AS m
FROM (VALUES ('logreg', '{"hash_bits": 20, "binary": false}'::jsonb), ('svm', '{"solver": "svm", "hash_bits": 20}'),
             ('pa', '{"solver": "pa", "epochs": 3, "binary": true}'),
             ('params', '{"C": 0.5, "bias": 0, "class_weight": {"1": 2, "-1": 1}, "hash_bits": 12, "binary": true}')) p(name, params);
-- more weights than the targets' limit of 20
INSERT INTO seeds
SELECT 'articles', pglearn.train(pglearn.features(url, title, body, 12), label, '{"hash_bits": 12}')
FROM (VALUES ('https://www.postgresql.org/docs/15/indexes.html', 'PostgreSQL: Indexes', 'btree gist gin brin hash', 1),
             ('https://example.org/football', 'Cup final', 'the match ended two one after extra time', -1)) e(url, title, body, label);
SQL
for name in logreg svm pa params articles; do
	psql -X -A -t -d "$db" -c "SELECT m FROM seeds WHERE name = '$name'" | tr -d '\n' >t/fuzz/corpus/model/$name.txt
	seed t/fuzz/corpus/model/$name.bin "SELECT pglearn.model_send(m) FROM seeds WHERE name = '$name'"
done
