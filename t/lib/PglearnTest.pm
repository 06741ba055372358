# t/lib/PglearnTest.pm: shared fixtures of pglearn's TAP tests.
package PglearnTest;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT = qw(load_articles scores_of);

# A labelled set of articles (database posts interesting, sports not), a
# few unlabelled, and a fitted model named 'news'.
sub load_articles
{
	my ($node, $dbname, $n) = @_;
	$n //= 200;
	$node->safe_psql($dbname, qq{
		CREATE EXTENSION IF NOT EXISTS pglearn;
		INSERT INTO pglearn.examples (url, title, body, label)
		SELECT format('https://%s/post/%s', CASE WHEN i % 2 = 0 THEN 'db.example.com' ELSE 'sports.example.org' END, i),
		       CASE WHEN i % 2 = 0 THEN 'Tuning PostgreSQL part ' || i ELSE 'Match report ' || i END,
		       CASE WHEN i % 2 = 0 THEN 'index vacuum planner ' || (i % 7) ELSE 'goal striker league ' || (i % 5) END,
		       CASE WHEN i % 10 = 0 THEN NULL WHEN i % 2 = 0 THEN 1 ELSE -1 END
		FROM generate_series(1, $n) i;
		SELECT pglearn.fit('news', params => '{"C": [0.1, 1, 10]}');
	});
	return;
}

# Every example's url, label and score under the stored model, as one
# string, for comparing two databases.
sub scores_of
{
	my ($node, $dbname) = @_;
	return $node->safe_psql($dbname, q{
		SELECT string_agg(format('%s|%s|%s', url, coalesce(label::text, '-'),
		                         pglearn.classify('news', url, title, body)), E'\n' ORDER BY url)
		FROM pglearn.examples});
}

1;
