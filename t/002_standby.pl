# A streaming-replication hot standby scores exactly like the primary.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PglearnTest;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
load_articles($primary, 'postgres');
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# work after the base backup reaches the standby through WAL
$primary->safe_psql('postgres', q{
	UPDATE pglearn.examples SET label = 1 WHERE url LIKE '%/post/10';
	SELECT pglearn.fit('news', params => '{"solver": "pa", "epochs": 5}');
});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

is(scores_of($standby, 'postgres'), scores_of($primary, 'postgres'),
	'classify(name, ...) on the standby equals the primary');
my $metrics = 'SELECT string_agg(metrics::text || md5(model::text), E\'\n\' ORDER BY id) FROM pglearn.models';
is($standby->safe_psql('postgres', $metrics), $primary->safe_psql('postgres', $metrics),
	'models and metrics replicated');
is($standby->safe_psql('postgres', q{
	SELECT pglearn.model_info(model)->>'solver' FROM pglearn.models WHERE name = 'news'
	ORDER BY created_at DESC, id DESC LIMIT 1}), 'pa', 'the newest model is live on the standby');

# the standby can score ad hoc but not fit
my ($ret, $stdout, $stderr) = $standby->psql('postgres', q{SELECT pglearn.fit('news')});
isnt($ret, 0, 'fit on a standby fails');
like($stderr, qr/read-only transaction/, 'with a read-only error');

$standby->stop;
$primary->stop;
done_testing();
