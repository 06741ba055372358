/*-------------------------------------------------------------------------
 *
 * pglearn.c
 *	  Module entry point: PG_MODULE_MAGIC, _PG_init and the GUCs.
 *
 * Every setting lives here so there is one place to read what can be
 * tuned.  _PG_init only defines settings; it never raises an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "pglearn.h"

PG_MODULE_MAGIC;

int			pglearn_max_train_memory = 1024 * 1024;	/* kB: 1GB */

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("pglearn.max_train_memory",
							"Maximum memory one train() aggregate may use for its training set.",
							"A larger training set fails with an error instead of exhausting memory.",
							&pglearn_max_train_memory,
							1024 * 1024,
							1024,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("pglearn");
}
