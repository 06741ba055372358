# An immediate shutdown (a crash) in the middle of a fit or of labelling
# loses no committed label, leaves no half-stored model, and every stored
# model still reads back valid.
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
load_articles($node, 'postgres', 2000);

my $labels_sql = q{SELECT count(*) FILTER (WHERE label = 1) || '/' || count(*) FILTER (WHERE label = -1) FROM pglearn.examples};
my $labels = $node->safe_psql('postgres', $labels_sql);
my $models = $node->safe_psql('postgres', 'SELECT count(*) FROM pglearn.models');

# a long fit (a big C grid, many folds) in one session, and an open
# labelling transaction in another
my $fitting = $node->background_psql('postgres', on_error_stop => 0);
$fitting->query_until(qr/started/, q{
	\echo started
	SELECT pglearn.fit('news', params => '{"k": 10, "C": [0.001, 0.01, 0.1, 1, 10, 100, 1000, 0.002, 0.02, 0.2, 2, 20, 200, 2000]}');
});
my $labelling = $node->background_psql('postgres', on_error_stop => 0);
$labelling->query_safe(q{BEGIN; UPDATE pglearn.examples SET label = -label WHERE label IS NOT NULL;});

ok($node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%pglearn.fit(''news''%' AND state = 'active'}),
	'fit is running');
$node->stop('immediate');
$fitting->{run}->kill_kill;
$labelling->{run}->kill_kill;
$node->start;

is($node->safe_psql('postgres', $labels_sql), $labels, 'committed labels survive, the open transaction is gone');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pglearn.models'), $models, 'the interrupted fit stored nothing');
is($node->safe_psql('postgres', q{SELECT bool_and(model::text::pglearn.model OPERATOR(pglearn.=) model) FROM pglearn.models}),
	't', 'every stored model reads back valid');
is($node->safe_psql('postgres', q{SELECT to_regclass('pg_temp.pglearn_fit_data') IS NULL}), 't',
	'no fit working table is left behind');
like($node->safe_psql('postgres', q{SELECT pglearn.fit('news') ? 'f1'}), qr/^t$/, 'fit works again after the crash');

$node->stop;
done_testing();
