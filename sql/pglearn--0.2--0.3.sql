/* pglearn--0.2--0.3.sql: update from 0.2 to 0.3 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pglearn UPDATE TO '0.3'" to load this file. \quit

-- 0.3 is the security release.  Every SQL and plpgsql function of pglearn
-- now runs with a fixed search_path (pg_catalog, pg_temp) or, for the small
-- SQL functions that must stay inlinable, has a SQL-standard body that is
-- bound to its objects when it is created; pglearn's own objects are always
-- named pglearn.*.  Functions that change data or reach Redis are no longer
-- executable by PUBLIC (README "Security").

-- BEGIN redis status (src/redis.c; helper-owned section)
-- END redis status
