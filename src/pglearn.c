/*-------------------------------------------------------------------------
 *
 * pglearn.c
 *	  Module entry point: PG_MODULE_MAGIC, _PG_init and the GUCs.
 *
 * The general settings live here; the pglearn.redis_* ones with the Redis
 * code that reads them (src/redis.c, pglearn_redis_init), called from
 * here.  README "Settings" lists them all.  _PG_init only defines
 * settings; it never raises an error.
 * Settings that bound resources or reach other servers are PGC_SUSET: a
 * session must not be able to lift a limit the server's administrator set.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "pglearn.h"
#include "redis.h"

PG_MODULE_MAGIC;

int			pglearn_max_train_memory = 1024 * 1024;	/* kB: 1GB */
char	   *pglearn_default_model = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	/*
	 * A bound on what one query may take from the server is the server's:
	 * a superuser setting, so a user cannot SET it to a terabyte.
	 */
	DefineCustomIntVariable("pglearn.max_train_memory",
							"Maximum memory one train() aggregate may use for its training set.",
							"A larger training set fails with an error instead of exhausting memory.",
							&pglearn_max_train_memory,
							1024 * 1024,
							1024,
							MAX_KILOBYTES,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	/*
	 * Read by SQL only, through current_setting(): the scoring trigger on
	 * pglearn.examples, the label_conflicts view, and the default model
	 * name of rescore, refresh, top_features and supporting_features.  A
	 * user's own choice (it bounds nothing and reaches no other server),
	 * so every user may set it.
	 */
	DefineCustomStringVariable("pglearn.default_model",
							   "Name of the stored model that scores pglearn.examples.",
							   "The scoring trigger scores inserted and re-fetched rows with the newest model of this name; empty turns scoring off.",
							   &pglearn_default_model,
							   "default",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	/* pglearn.redis_*: defined next to the code that uses them */
	pglearn_redis_init();

	MarkGUCPrefixReserved("pglearn");
}
