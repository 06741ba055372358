/* pglearn--0.1--0.2.sql: update from 0.1 to 0.2 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pglearn UPDATE TO '0.2'" to load this file. \quit

-- Released scripts never change: a fresh CREATE EXTENSION runs
-- pglearn--0.1.sql and then this file, so an updated database and a new
-- one have the same objects by construction.

-- published(list): the list as Redis holds it, i.e. what the front end
-- reads; lets a user (and the isolation tests) check a publication
-- without a Redis client.
CREATE FUNCTION published(list text)
	RETURNS TABLE (rank int4, url text, score float8, example_id int8, version int8)
	AS 'MODULE_PATHNAME', 'pglearn_redis_published'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION published(text) IS
	'the members of a list as Redis holds them now (what the front end reads), best first, with the version Redis holds; no rows if Redis has no such list, an error if Redis cannot be read';
