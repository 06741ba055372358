# An immediate shutdown (a crash) of the server while `pglearn crawl` is
# writing loses no label, leaves no half-written row and only whole batches
# (the crawler writes --batch rows per transaction and flushes a batch only
# when it is full or the crawl ends), and `crawl --pending` completes the rest.
# To crash in the middle of a batch, not between two, a user's row lock holds
# one batch inside its open transaction when the server goes down.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n_urls = 300;
my $batch = 20;

# the repository's build if there is one, else the installed command
my $crawler = "$FindBin::Bin/../crawler/pglearn";
$crawler = `pg_config --bindir` =~ s/\s+$//r . '/pglearn' unless -x $crawler;
plan skip_all => "no pglearn command (make -C crawler)" unless -x $crawler;

my $node = PostgreSQL::Test::Cluster->new('crawl');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pglearn');
my $connstr = $node->connstr('postgres');

# the crawler's fixture HTTP server on 127.0.0.1
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $server = IPC::Run::start(['python3', "$FindBin::Bin/../crawler/t/fixture_server.py", "$tmp/ports"],
	'>', "$tmp/server.log", '2>&1');
for (1 .. 100)
{
	last if -s "$tmp/ports";
	select(undef, undef, undef, 0.1);
}
my ($port) = split ' ', slurp_file("$tmp/ports");
ok($port, 'fixture server started');

# slow pages (0.1 s each, 4 at a time), so the crawl is far from done when
# the crash comes; every third URL labelled 1, every fifth of the rest -1,
# the others unlabelled
my $urls = '';
for my $i (1 .. $n_urls)
{
	my $label = $i % 3 == 0 ? "\t1" : $i % 5 == 0 ? "\t-1" : '';
	$urls .= "http://127.0.0.1:$port/slow?s=0.1&i=$i$label\n";
}
open(my $fh, '>', "$tmp/urls.tsv") or die "cannot write $tmp/urls.tsv: $!";
print $fh $urls;
close($fh);
my ($stdout, $stderr);
IPC::Run::run([ $crawler, 'add', '--no-fetch', '--dbname', $connstr, "$tmp/urls.tsv" ],
	'>', \$stdout, '2>', \$stderr);
is($? >> 8, 0, 'pglearn add --no-fetch imported the URLs') or diag($stderr);

my $labels_sql = q{SELECT string_agg(url || '=' || coalesce(label::text, 'null'), ',' ORDER BY url) FROM pglearn.examples};
my $fetched_sql = q{SELECT count(*) FROM pglearn.examples WHERE fetched_at IS NOT NULL};

# PGAPPNAME (set by the test framework) would hide the crawler's own name
my @crawl = ($crawler, 'crawl', '--allow-cidr', '127.0.0.1/32', '--pending', '--quiet', '--dbname', "$connstr application_name=crawl_crash",
	'--batch', $batch,
	'--jobs', 4, '--per-host', 4, '--delay', 0, '--timeout', 10,
	# the URLs the crashed crawl had claimed are handed out again after this
	'--lease', 3);
my ($crawl_out, $crawl_err) = ('', '');
# the row lock: the batch that reaches this URL waits with its earlier rows
# written but not committed
my $locked_url = "http://127.0.0.1:$port/slow?s=0.1&i=50";
my $locker = $node->background_psql('postgres', on_error_stop => 0);
$locker->query_safe("BEGIN; SELECT 1 FROM pglearn.examples WHERE url = '$locked_url' FOR UPDATE;");

my $crawl_timeout = IPC::Run::timeout(120);
my $crawl = IPC::Run::start(\@crawl, '>', \$crawl_out, '2>', \$crawl_err, $crawl_timeout);
ok($node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity
	 WHERE application_name = 'crawl_crash' AND wait_event_type = 'Lock' AND state = 'active'}),
	'a crawler batch waits on the locked row inside its transaction');
# a user labels an article the crawl has not reached yet, then the crash
my $late_url = "http://127.0.0.1:$port/slow?s=0.1&i=$n_urls";
$node->safe_psql('postgres', "SELECT pglearn.label('$late_url', -1)");
my $labels = $node->safe_psql('postgres', $labels_sql);
$node->stop('immediate');
$locker->{run}->kill_kill;

# the waiting batch fails with the server and cannot be written again; wait
# for the crawler to give up, so nothing reconnects to the restarted server
# behind the test's back
eval { $crawl->finish; 1 } or $crawl->kill_kill;
is($crawl->result(0), 2, 'the crawler exits 2 when the database is gone') or diag($crawl_err);
like($crawl_err, qr/cannot reconnect|giving up/, 'and says so');

$node->start;
is($node->safe_psql('postgres', $labels_sql), $labels, 'every committed label is intact');
my $fetched = $node->safe_psql('postgres', $fetched_sql);
ok($fetched > 0 && $fetched < $n_urls, "the crash came mid-crawl ($fetched of $n_urls rows fetched)");
is($fetched % $batch, 0, "only whole batches of $batch were committed ($fetched rows)");
is($node->safe_psql('postgres', "SELECT fetched_at IS NULL FROM pglearn.examples WHERE url = '$locked_url'"),
	't', 'the batch caught mid-transaction left nothing behind');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pglearn.examples
	 WHERE (fetched_at IS NULL) <> (http_status IS NULL)
	    OR (fetched_at IS NULL AND (title IS NOT NULL OR body IS NOT NULL OR final_url IS NOT NULL
	                                OR fetch_error IS NOT NULL OR error_count <> 0))
	    OR (fetched_at IS NOT NULL AND (title IS DISTINCT FROM 'Slow page' OR body IS DISTINCT FROM 'finally'
	                                    OR http_status <> 200 OR fetch_error IS NOT NULL OR error_count <> 0
	                                    OR final_url IS NULL))}),
	0, 'no row is half-written: either untouched or all fetched columns set');

# the rest, once the crashed crawl's claims (pglearn.crawl_claims) expired
ok($node->poll_query_until('postgres',
	q{SELECT NOT EXISTS (SELECT FROM pglearn.crawl_claims WHERE claimed_until > clock_timestamp())}),
	"the crashed crawl's claims expire after their lease");
IPC::Run::run([ @crawl ], '>', \$stdout, '2>', \$stderr);
is($? >> 8, 0, 'crawl --pending after the crash exits 0') or diag($stderr);
is($node->safe_psql('postgres', q{
	SELECT count(*) || '|' || count(*) FILTER (WHERE fetched_at IS NOT NULL AND title = 'Slow page' AND http_status = 200)
	  FROM pglearn.examples}),
	"$n_urls|$n_urls", 'crawl --pending fetched the rest, no duplicate rows');
is($node->safe_psql('postgres', $labels_sql), $labels, 'labels still intact after the second crawl');
is($node->safe_psql('postgres', "SELECT label FROM pglearn.examples WHERE url = '$late_url'"), '-1',
	'the label given during the crawl survived the crash and the re-fetch');

$server->kill_kill;
$node->stop;
done_testing();
