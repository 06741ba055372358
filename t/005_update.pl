# ALTER EXTENSION pglearn UPDATE from the previous release keeps all data,
# and leaves the same objects as a fresh install of the new version.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(sha256_hex);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PglearnTest;

my $previous = '0.1';
my $current = '0.3';

# A released install script is frozen: databases out there were made by
# exactly these bytes, and updates are written against them.
my $script = slurp_file("$FindBin::Bin/../sql/pglearn--$previous.sql");
is(sha256_hex($script), '25df598dfb4fb64ad756fc9ac7323e69a1857f6209c6d1b8c0cfffc0aff2f089',
	"sql/pglearn--$previous.sql is the released script, unchanged");
# so is every released update script
is(sha256_hex(slurp_file("$FindBin::Bin/../sql/pglearn--0.1--0.2.sql")),
	'7ec27267bf87683151f6d2926135e5398c0e39afb86911bb66e6dba2cf7dc3cc',
	'sql/pglearn--0.1--0.2.sql is the released update script, unchanged');

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

# a database made by the previous release, with everything users keep
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', "CREATE EXTENSION pglearn VERSION '$previous'");
load_articles($node, 'old');
$node->safe_psql('old', q{
	SELECT pglearn.fit('news', params => '{"solver": "svm"}');
	SELECT pglearn.fit('small', params => '{"hash_bits": 12, "binary": true}');
	SELECT pglearn.label('https://db.example.com/post/10', 1);
	INSERT INTO pglearn.lists (name, url_pattern, description) VALUES ('db', 'db\.example', 'database posts');
	UPDATE pglearn.lists SET enabled = false WHERE name = 'video';
	INSERT INTO pglearn.publications (list, k, version, members, requested_at)
	VALUES ('db', 2, 42, '[{"id": 2, "url": "https://db.example.com/post/2"}]', now());
	SELECT pglearn.rescore('news');
});

my %before;
my %queries = (
	examples => q{SELECT string_agg(format('%s|%s|%s|%s|%s', id, url, label, updated_at, score), E'\n' ORDER BY id) FROM pglearn.examples},
	# the models themselves are converted to format 2 (below); all else stays
	models => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s', id, name, params, metrics,
	                                     pglearn.model_info(model) - ARRAY['format', 'id', 'hash_bits', 'binary', 'fields'],
	                                     (SELECT md5(string_agg(w::text, ',' ORDER BY w.index)) FROM pglearn.weights(model) w)),
	                              E'\n' ORDER BY id) FROM pglearn.models},
	lists => q{SELECT string_agg(format('%s|%s|%s|%s', name, url_pattern, enabled, builtin), E'\n' ORDER BY name) FROM pglearn.lists},
	# members become rows of publication_member (0.3); read both forms alike
	publications => q{SELECT string_agg(format('%s|%s|%s|%s', list, k, version,
	                                           (SELECT string_agg(format('%s=%s/%s', m->>'id', m->>'url', m->>'label'), ',')
	                                              FROM jsonb_array_elements(to_jsonb(members)) m)),
	                              E'\n' ORDER BY list) FROM pglearn.publications},
	recommend => q{SELECT string_agg(format('%s|%s|%s', rank, url, score), E'\n' ORDER BY rank) FROM pglearn.recommend('db', 5)},
);
$before{$_} = $node->safe_psql('old', $queries{$_}) foreach keys %queries;
my $scores = scores_of($node, 'old');
ok($before{models} =~ tr/\n// >= 1, 'the old database holds a model history');
# what 0.2's classify(name, ...) gave for 'small': the features of the
# settings in its params (this library, running under the old scripts until
# the update, scores a format-1 model by name with the defaults instead)
my $small_scores = $node->safe_psql('old', q{
	SELECT string_agg(format('%s|%s', e.url,
	                         pglearn.classify(m.model, pglearn.features(e.url, e.title, e.body,
	                                          (m.params->>'hash_bits')::int4, (m.params->>'binary')::bool))),
	                  E'\n' ORDER BY e.url)
	FROM pglearn.examples e, (SELECT * FROM pglearn.models WHERE name = 'small') m});
my $small_scores_query = q{
	SELECT string_agg(format('%s|%s', url, pglearn.classify('small', url, title, body)), E'\n' ORDER BY url)
	FROM pglearn.examples};
is($node->safe_psql('old', q{SELECT string_agg(DISTINCT pglearn.model_info(model)->>'format', ',') FROM pglearn.models}),
	'1', "$previous stored its models in format 1");
# a row that can be converted only when its params are corrected
$node->safe_psql('old', q{
	INSERT INTO pglearn.models (name, model, params)
	SELECT 'broken', model, '{"hash_bits": 40}' FROM pglearn.models WHERE name = 'news' ORDER BY id LIMIT 1});

my ($update_rc, $update_out, $update_err) = $node->psql('old', 'ALTER EXTENSION pglearn UPDATE');
is($update_rc, 0, 'ALTER EXTENSION pglearn UPDATE succeeds');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'pglearn'}),
	$current, "ALTER EXTENSION pglearn UPDATE goes to $current");
like($update_err, qr/WARNING:  pglearn\.models row \d+ keeps model format 1: its params give no valid feature settings/,
	'the update warns of the model whose params give no settings');
$node->safe_psql('old', q{DELETE FROM pglearn.models WHERE name = 'broken'});

# every stored model is format 2 now, recording the settings fit() had
# kept in its params
is($node->safe_psql('old', q{
	SELECT string_agg(format('%s: format %s, hash_bits %s, binary %s, %s', m.name,
	                         pglearn.model_info(m.model)->>'format', s.hash_bits, s."binary", s.fields), E'\n' ORDER BY m.id)
	FROM pglearn.models m CROSS JOIN LATERAL pglearn.feature_settings(m.model) s}),
	"news: format 2, hash_bits 20, binary f, url,title,description+body\n" .
	"news: format 2, hash_bits 20, binary f, url,title,description+body\n" .
	"small: format 2, hash_bits 12, binary t, url,title,description+body",
	'the update converts stored models to format 2 with the settings of their params');
is($node->safe_psql('old', $small_scores_query), $small_scores,
	'a converted model scores by name as 0.2 scored it with its params');
foreach my $what (sort keys %queries)
{
	is($node->safe_psql('old', $queries{$what}), $before{$what}, "update keeps $what");
}
is(scores_of($node, 'old'), $scores, 'classify gives identical results after the update');

# the updated database works like a new one
$node->safe_psql('old', q{
	SELECT pglearn.label('https://sports.example.org/post/20', -1);
	SET pglearn.default_model = 'news';
	INSERT INTO pglearn.examples (url, title, body) VALUES ('https://db.example.com/new', 'Tuning PostgreSQL', 'index vacuum planner');
});
is($node->safe_psql('old', q{SELECT score > 0 FROM pglearn.examples WHERE url = 'https://db.example.com/new'}),
	't', 'after the update, the trigger scores new rows with the stored model');
$node->safe_psql('old', q{SELECT pglearn.fit('news')});
is($node->safe_psql('old', q{SELECT count(*) FROM pglearn.models WHERE name = 'news'}),
	'3', 'after the update, fit adds to the history');
# the update gave every stored article its search document; new ones get theirs from the trigger
is($node->safe_psql('old', q{SELECT (SELECT count(*) FROM pglearn.search_documents) = (SELECT count(*) FROM pglearn.examples)}),
	't', 'after the update, every article has a search document');
is($node->safe_psql('old', q{SELECT count(*) FROM pglearn.search('tuning planner', 100) WHERE url = 'https://db.example.com/new'}),
	'1', 'after the update, search() finds a new article');
ok($node->safe_psql('old', q{SELECT count(*) FROM pglearn.search('postgresql')}) > 1,
	'after the update, search() finds the articles stored before it');
my ($rc, $out, $err) = $node->psql('old', q{SELECT * FROM pglearn.published('db')});
like($err, qr/pglearn\.redis_url is not set/, "${current}'s published() is there (and needs pglearn.redis_url)");

# the same objects as a fresh install: every member of the extension with
# what defines it (function attributes and bodies, view definitions,
# columns, comments)
my $objects = q{
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
		SELECT pg_describe_object(dep.classid, dep.objid, 0) || ' ' ||
		       coalesce((SELECT format('%s %s %s %s %s', p.provolatile, p.proparallel, p.proisstrict,
		                               pg_get_function_result(p.oid), md5(p.prosrc || coalesce(p.probin, '')))
		                   FROM pg_proc p WHERE dep.classid = 'pg_proc'::regclass AND p.oid = dep.objid), '') ||
		       coalesce((SELECT md5(pg_get_viewdef(dep.objid))
		                   FROM pg_class c WHERE dep.classid = 'pg_class'::regclass AND c.oid = dep.objid AND c.relkind = 'v'), '') ||
		       coalesce((SELECT string_agg(format('%s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull), ',' ORDER BY a.attnum)
		                   FROM pg_attribute a WHERE dep.classid = 'pg_class'::regclass AND a.attrelid = dep.objid
		                    AND a.attnum > 0 AND NOT a.attisdropped), '') ||
		       coalesce(' ' || md5(obj_description(dep.objid, (SELECT relname FROM pg_class WHERE oid = dep.classid))), '') AS d
		  FROM pg_depend dep
		 WHERE dep.refclassid = 'pg_extension'::regclass
		   AND dep.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pglearn')
		   AND dep.deptype = 'e') members};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pglearn');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'pglearn'}),
	$current, "a fresh CREATE EXTENSION installs $current");
my $fresh = $node->safe_psql('fresh', $objects);
ok(length($fresh) > 1000, 'the fresh install has members to compare');
is($node->safe_psql('old', $objects), $fresh, 'the updated database has exactly the objects of a fresh install');

# and it dumps and restores like any other
my $dump = $node->basedir . '/old.custom';
$node->command_ok([ 'pg_dump', '--format=custom', '--file', $dump, $node->connstr('old') ], 'pg_dump of the updated database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--dbname', $node->connstr('restored'), $dump ], 'pg_restore');
is(scores_of($node, 'restored'), scores_of($node, 'old'), 'the restored copy classifies identically');
my $documents = q{SELECT md5(string_agg(url || ' ' || document::text, E'\n' ORDER BY url)) FROM pglearn.search_documents};
is($node->safe_psql('restored', $documents), $node->safe_psql('old', $documents),
	'the restore rebuilds the same search documents (the table itself is not dumped)');

$node->stop;
done_testing();
