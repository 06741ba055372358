# pg_dump and restore keep examples (with labels), models and their scores.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PglearnTest;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE source');
load_articles($node, 'source');
$node->safe_psql('source', q{SELECT pglearn.fit('news', params => '{"solver": "svm"}')});
# a model that records settings other than the defaults (model format 2)
$node->safe_psql('source', q{SELECT pglearn.fit('small', params => '{"hash_bits": 12, "binary": true}')});
my $small_scores_query = q{
	SELECT string_agg(format('%s|%s', url, pglearn.classify('small', url, title, body)), E'\n' ORDER BY url)
	FROM pglearn.examples};
my $small_scores = $node->safe_psql('source', $small_scores_query);

my $scores = scores_of($node, 'source');
my $models = $node->safe_psql('source',
	'SELECT string_agg(md5(model::text) || params::text || metrics::text, E\'\n\' ORDER BY id) FROM pglearn.models');
my $labels = $node->safe_psql('source',
	'SELECT count(*) FILTER (WHERE label = 1) || \'/\' || count(*) FILTER (WHERE label = -1) FROM pglearn.examples');

foreach my $format ('custom', 'plain')
{
	my $dump = $node->basedir . "/source.$format";
	my $target = "restored_$format";
	$node->command_ok(
		[ 'pg_dump', "--format=$format", '--file', $dump, $node->connstr('source') ],
		"pg_dump --format=$format");
	$node->safe_psql('postgres', "CREATE DATABASE $target");
	if ($format eq 'custom')
	{
		$node->command_ok([ 'pg_restore', '--exit-on-error', '--dbname', $node->connstr($target), $dump ],
			'pg_restore');
	}
	else
	{
		$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $dump, '-d', $node->connstr($target) ],
			'psql restores the plain dump');
	}

	is($node->safe_psql($target,
		'SELECT count(*) FILTER (WHERE label = 1) || \'/\' || count(*) FILTER (WHERE label = -1) FROM pglearn.examples'),
		$labels, "$format: labels kept");
	is($node->safe_psql($target,
		'SELECT string_agg(md5(model::text) || params::text || metrics::text, E\'\n\' ORDER BY id) FROM pglearn.models'),
		$models, "$format: models identical, history included");
	is(scores_of($node, $target), $scores, "$format: classify gives identical results");
	is($node->safe_psql($target, $small_scores_query), $small_scores,
		"$format: a model keeps its feature settings, and classify(name) its scores");

	# the sequences came along: new rows do not collide with restored ones
	$node->safe_psql($target, q{INSERT INTO pglearn.examples (url) VALUES ('https://new.example/')});
	$node->safe_psql($target, q{SELECT pglearn.fit('after_restore')});
	is($node->safe_psql($target, q{SELECT count(*) FROM pglearn.models WHERE name = 'after_restore'}),
		'1', "$format: fit works after restore");
}

# binary COPY of the model column reads back identical
my $binary = $node->basedir . '/models.bin';
$node->safe_psql('source', qq{
	COPY (SELECT model FROM pglearn.models ORDER BY id) TO '$binary' WITH (FORMAT binary);
	CREATE TABLE models_back (model pglearn.model);
	COPY models_back FROM '$binary' WITH (FORMAT binary);
});
is($node->safe_psql('source', q{
	SELECT bool_and(a.model OPERATOR(pglearn.=) b.model AND a.model::text = b.model::text)
	FROM (SELECT model, row_number() OVER (ORDER BY id) n FROM pglearn.models) a
	JOIN (SELECT model, row_number() OVER () n FROM models_back) b USING (n)}),
	't', 'binary COPY round trip of models');

$node->stop;
done_testing();
