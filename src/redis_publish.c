/*-------------------------------------------------------------------------
 *
 * redis_publish.c
 *	  Publishing recommendation lists to Redis, only after commit:
 *	  _redis_queue() and _redis_push(), and the transaction callbacks.
 *
 * publish() (SQL) runs recommend() and records the members in
 * pglearn.publications; _redis_queue() reads that row back and builds
 * every command the push will send.  The rule that shapes this file:
 * XACT_EVENT_COMMIT callbacks run after the commit record is written, so
 * an ERROR there becomes a PANIC.  All work that can fail in PostgreSQL's
 * sense (SPI, palloc, formatting keys and arguments) happens when
 * publish() runs, inside the transaction.  The commit callback only hands
 * those preformatted argument vectors to hiredis (src/redis_client.c),
 * which allocates with malloc and reports failure by return value, and
 * turns any failure into a WARNING (as PostgreSQL's own post-commit
 * cleanup does; a WARNING does not abort anything).  No PG_TRY there:
 * there is nothing that could throw to catch.  The queued publications
 * live in a context under TopTransactionContext: PostgreSQL deletes that
 * context after the XACT_EVENT_COMMIT and ABORT callbacks have run, so the
 * callback reads them in place and allocates nothing.
 *
 * Ordering: the commit callback runs while the transaction still holds
 * its locks, including the row lock publish() took on the list's
 * pglearn.publications row, so a second publisher of the same list waits
 * until the first one's push is done.  Versions make the outcome right in
 * every other interleaving (publish_pending() racing a commit, a push that
 * timed out on the client but completed on the server): the Lua script
 * installs a list only if its version is higher than the one Redis holds.
 *
 * A push takes at most connect_timeout + (exchanges) x command_timeout,
 * and once one push of a commit finds Redis unreachable, the commit does
 * not try that Redis again for its other lists.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "redis.h"
#include "redis_client.h"

/* temporary keys expire if a push dies between writing and swapping them */
#define REDIS_TMP_TTL "3600"

/*
 * One publication of one list, ready to send: every byte the push needs
 * is here, so sending allocates nothing from PostgreSQL.
 */
typedef struct ListPublication
{
	struct ListPublication *next;
	SubTransactionId subid;		/* subtransaction that queued it */
	char	   *list;
	int64		version;
	int			nmembers;
	RedisTarget target;
	int			connect_timeout;
	int			command_timeout;
	CommandList data;			/* example hashes, temporary zset and id hash */
	RedisCommand swap;			/* EVAL that installs the new list */
} ListPublication;

/* this transaction's queued publications, in queue order */
static ListPublication *pending = NULL;
static MemoryContext pending_context = NULL;
static bool callbacks_registered = false;

/*
 * Installs the temporary zset and id hash as the list if this version is
 * newer than the one Redis holds, else drops them.  An empty publication
 * (no temporary keys) deletes the list.  RENAME keeps the source's TTL, so
 * PERSIST the result.  Returns 1 if installed, 0 if superseded.
 *	 KEYS: tmp zset, tmp ids, list, list ids, version;  ARGV: version
 */
static const char swap_script[] =
"local v = tonumber(redis.call('GET', KEYS[5]))\n"
"if v and v >= tonumber(ARGV[1]) then\n"
"  redis.call('DEL', KEYS[1], KEYS[2])\n"
"  return 0\n"
"end\n"
"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
"  redis.call('RENAME', KEYS[1], KEYS[3])\n"
"  redis.call('PERSIST', KEYS[3])\n"
"  redis.call('RENAME', KEYS[2], KEYS[4])\n"
"  redis.call('PERSIST', KEYS[4])\n"
"else\n"
"  redis.call('DEL', KEYS[3], KEYS[4])\n"
"end\n"
"redis.call('SET', KEYS[5], ARGV[1])\n"
"return 1\n";

PG_FUNCTION_INFO_V1(pglearn_redis_queue);
PG_FUNCTION_INFO_V1(pglearn_redis_push);


/* ------------------------------------------------ building publications */

/* SPI_getvalue of a column, '' for NULL */
static char *
column_text(HeapTuple tuple, TupleDesc desc, int column)
{
	char	   *value = SPI_getvalue(tuple, desc, column);

	return value ? value : "";
}

/*
 * Builds the publication of a list from its row in pglearn.publications,
 * at the given version or (version < 0) the current one, with the current
 * settings.  Allocates everything in CurrentMemoryContext; errors if the
 * row is missing.
 */
static ListPublication *
build_publication(const char *list, int64 version)
{
	MemoryContext target_context = CurrentMemoryContext;
	ListPublication *pub;
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		values[2];
	SPITupleTable *tuptable;
	char	   *prefix;
	char	   *tmp_key;
	char	   *tmp_ids_key;
	char	   *ttl;
	int			ret;
	bool		isnull;

	pub = palloc0(sizeof(ListPublication));
	redis_current_target(&pub->target);
	pub->list = pstrdup(list);
	pub->connect_timeout = pglearn_redis_connect_timeout;
	pub->command_timeout = pglearn_redis_command_timeout;
	prefix = pstrdup(pglearn_redis_prefix ? pglearn_redis_prefix : "");
	ttl = psprintf("%d", pglearn_redis_ttl);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = CStringGetTextDatum(list);
	values[1] = Int64GetDatum(version);
	/*
	 * Every name and operator is schema-qualified: publish() runs with a
	 * fixed search_path, but publish_pending() and a caller of _redis_push
	 * need not, and an operator or function a user put earlier in the
	 * search_path (public.=(text, text), say) must never run in here.
	 */
	ret = SPI_execute_with_args(version < 0
								? "SELECT p.version FROM pglearn.publications p"
								" WHERE p.list OPERATOR(pg_catalog.=) $1"
								: "SELECT p.version FROM pglearn.publications p"
								" WHERE p.list OPERATOR(pg_catalog.=) $1"
								" AND p.version OPERATOR(pg_catalog.=) $2",
								version < 0 ? 1 : 2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading pglearn.publications failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no publication of list \"%s\" is recorded", list),
				 errhint("pglearn.publish() records one.")));
	pub->version = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	values[1] = Int64GetDatum(pub->version);

	/*
	 * The members' fields by name (pglearn.publication_member): a field
	 * renamed in SQL is an error here, never an empty value.  ORDER BY uses
	 * int8's default btree operator class: no name lookup.
	 */
	ret = SPI_execute_with_args("SELECT x.id, x.url, x.final_url, x.title, x.description,"
								"       x.og_image, x.score, x.label"
								"  FROM pglearn.publications p"
								" CROSS JOIN LATERAL pg_catalog.unnest(p.members) WITH ORDINALITY AS x"
								" WHERE p.list OPERATOR(pg_catalog.=) $1"
								"   AND p.version OPERATOR(pg_catalog.=) $2"
								" ORDER BY x.ordinality",
								2, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading pglearn.publications failed: %s", SPI_result_code_string(ret));
	tuptable = SPI_tuptable;

	/* everything the push reads goes into the caller's context */
	MemoryContextSwitchTo(target_context);
	pub->nmembers = (int) SPI_processed;
	tmp_key = psprintf("%slist:%s:tmp:%lld:%d", prefix, list, (long long) pub->version, MyProcPid);
	tmp_ids_key = psprintf("%slist:%s:ids:tmp:%lld:%d", prefix, list, (long long) pub->version, MyProcPid);

	{
		static const char *const fields[] = {"id", "url", "final_url", "title", "description",
		"og_image", "score", "label"};
		char	  **ids = palloc(Max(pub->nmembers, 1) * sizeof(char *));
		char	  **urls = palloc(Max(pub->nmembers, 1) * sizeof(char *));
		char	  **scores = palloc(Max(pub->nmembers, 1) * sizeof(char *));
		RedisCommand *cmd;

		for (int i = 0; i < pub->nmembers; i++)
		{
			HeapTuple	tuple = tuptable->vals[i];
			char	   *key;

			CHECK_FOR_INTERRUPTS();
			ids[i] = column_text(tuple, tuptable->tupdesc, 1);
			urls[i] = column_text(tuple, tuptable->tupdesc, 2);
			scores[i] = column_text(tuple, tuptable->tupdesc, 7);
			key = psprintf("%sexample:%s", prefix, ids[i]);
			cmd = redis_add_command(&pub->data, 2 + 2 * lengthof(fields));
			redis_set_arg(cmd, 0, "HSET");
			redis_set_arg(cmd, 1, key);
			for (int f = 0; f < (int) lengthof(fields); f++)
			{
				redis_set_arg(cmd, 2 + 2 * f, fields[f]);
				redis_set_arg(cmd, 3 + 2 * f, column_text(tuple, tuptable->tupdesc, f + 1));
			}
			if (pglearn_redis_ttl > 0)
				redis_add_command3(&pub->data, "EXPIRE", key, ttl);
		}

		/* leftovers of an earlier attempt by a backend with the same pid */
		redis_add_command3(&pub->data, "DEL", tmp_key, tmp_ids_key);

		for (int start = 0; start < pub->nmembers; start += REDIS_CHUNK)
		{
			int			n = Min(REDIS_CHUNK, pub->nmembers - start);
			RedisCommand *zadd = redis_add_command(&pub->data, 2 + 2 * n);
			RedisCommand *hset = redis_add_command(&pub->data, 2 + 2 * n);

			redis_set_arg(zadd, 0, "ZADD");
			redis_set_arg(zadd, 1, tmp_key);
			redis_set_arg(hset, 0, "HSET");
			redis_set_arg(hset, 1, tmp_ids_key);
			for (int i = 0; i < n; i++)
			{
				redis_set_arg(zadd, 2 + 2 * i, scores[start + i]);
				redis_set_arg(zadd, 3 + 2 * i, urls[start + i]);
				redis_set_arg(hset, 2 + 2 * i, urls[start + i]);
				redis_set_arg(hset, 3 + 2 * i, ids[start + i]);
			}
		}
		if (pub->nmembers > 0)
		{
			redis_add_command3(&pub->data, "EXPIRE", tmp_key, REDIS_TMP_TTL);
			redis_add_command3(&pub->data, "EXPIRE", tmp_ids_key, REDIS_TMP_TTL);
		}
	}

	/* EVAL script 5 tmp tmp_ids list list_ids version_key version */
	pub->swap.argc = 9;
	pub->swap.argv = palloc(9 * sizeof(char *));
	pub->swap.argvlen = palloc(9 * sizeof(size_t));
	redis_set_arg(&pub->swap, 0, "EVAL");
	redis_set_arg(&pub->swap, 1, swap_script);
	redis_set_arg(&pub->swap, 2, "5");
	redis_set_arg(&pub->swap, 3, tmp_key);
	redis_set_arg(&pub->swap, 4, tmp_ids_key);
	redis_set_arg(&pub->swap, 5, psprintf("%slist:%s", prefix, list));
	redis_set_arg(&pub->swap, 6, psprintf("%slist:%s:ids", prefix, list));
	redis_set_arg(&pub->swap, 7, psprintf("%sversion:%s", prefix, list));
	redis_set_arg(&pub->swap, 8, psprintf("%lld", (long long) pub->version));

	SPI_finish();
	return pub;
}


/* ------------------------------------------------------------ pushing */

/*
 * Pushes one publication: connect, write the example hashes and the
 * temporary keys, then swap them in with the Lua script.  REDIS_IO_OK on
 * success (*installed false if Redis already held a newer version), else
 * what ended it, with err filled in.  Error-free in PostgreSQL's sense.
 */
static RedisIo
redis_push_publication(const ListPublication *pub, bool *installed, char *err, size_t errlen)
{
	redisContext *c;
	redisReply *reply = NULL;
	RedisIo		io;

	*installed = false;
	c = redis_open(&pub->target, pub->connect_timeout, pub->command_timeout, &io, err, errlen);
	if (c == NULL)
		return io;
	io = redis_pipeline(c, &pub->data, pub->command_timeout, err, errlen);
	if (io == REDIS_IO_OK)
		io = redis_command(c, pub->swap.argc, pub->swap.argv, pub->swap.argvlen,
						   pub->command_timeout, "EVAL", &reply, err, errlen);
	if (io == REDIS_IO_OK)
	{
		*installed = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
		freeReplyObject(reply);
	}
	redis_close(c);
	return io;
}


/* true if a later publication of the same list is queued after pub */
static bool
superseded_in_transaction(const ListPublication *pub)
{
	for (const ListPublication *later = pub->next; later != NULL; later = later->next)
		if (strcmp(later->list, pub->list) == 0)
			return true;
	return false;
}

/* true if a and b are the same Redis server and database */
static bool
same_target(const RedisTarget *a, const RedisTarget *b)
{
	return a->unix_socket == b->unix_socket && a->db == b->db &&
		strcmp(a->where, b->where) == 0;
}

/*
 * Pushes this transaction's publications after commit.  Must not ERROR:
 * only hiredis calls on preformatted data, failures become WARNINGs.
 *
 * The wait is bounded twice over.  Once a push finds its Redis unreachable
 * (no connection, a timeout), the other lists for that Redis are not tried
 * in this commit, so a dead Redis costs one push's timeouts, not one per
 * list.  And once a terminate or cancel is pending, nothing more is tried:
 * PostgreSQL serves it when the commit is done.  Whatever is not pushed is
 * recorded in pglearn.publications for publish_pending().
 */
static void
push_pending(void)
{
	const RedisTarget *unreachable = NULL;
	char		err[256];

	for (const ListPublication *pub = pending; pub != NULL; pub = pub->next)
	{
		bool		installed;
		RedisIo		io;

		if (superseded_in_transaction(pub))
			continue;
		err[0] = '\0';
		if (ProcDiePending || QueryCancelPending)
		{
			io = REDIS_IO_INTERRUPTED;
			snprintf(err, sizeof(err), "not tried: %s", redis_interrupt_reason());
		}
		else if (unreachable != NULL && same_target(unreachable, &pub->target))
		{
			io = REDIS_IO_FAILED;
			snprintf(err, sizeof(err), "not tried: Redis did not answer for an earlier list of this commit");
		}
		else
			io = redis_push_publication(pub, &installed, err, sizeof(err));
		if (io == REDIS_IO_FAILED || io == REDIS_IO_TIMEOUT)
			unreachable = &pub->target;
		if (io != REDIS_IO_OK)
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not publish list \"%s\" to Redis at %s: %s",
							pub->list, pub->target.where, err),
					 errdetail("The transaction committed; version %lld of the list is recorded in pglearn.publications.",
							   (long long) pub->version),
					 errhint("SELECT pglearn.publish_pending() publishes it once Redis answers.")));
	}
}

static void
redis_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (pending != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction with pending Redis publications"),
						 errdetail("pglearn.publish() writes to Redis when its transaction commits, and COMMIT PREPARED runs no extension code."),
						 errhint("Call pglearn.publish() in a transaction that is committed directly.")));
			break;
		case XACT_EVENT_COMMIT:
			if (pending != NULL)
				push_pending();
			pending = NULL;
			pending_context = NULL; /* deleted with TopTransactionContext */
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			pending = NULL;
			pending_context = NULL;
			break;
		default:
			break;
	}
}

/*
 * ROLLBACK TO SAVEPOINT drops what the subtransaction queued (and what its
 * committed children passed up to it); RELEASE passes it to the parent.
 */
static void
redis_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	ListPublication **link;
	ListPublication *pub;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		link = &pending;
		while ((pub = *link) != NULL)
		{
			if (pub->subid == mySubid)
				*link = pub->next;	/* freed with the transaction */
			else
				link = &pub->next;
		}
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (pub = pending; pub != NULL; pub = pub->next)
			if (pub->subid == mySubid)
				pub->subid = parentSubid;
	}
}


/* ------------------------------------------------------ SQL functions */

/* _redis_push()'s push, for redis_interruptibly() */
typedef struct PushCall
{
	const ListPublication *pub;
	bool		installed;
	char		err[256];
} PushCall;

static RedisIo
push_session(void *arg)
{
	PushCall   *call = (PushCall *) arg;

	return redis_push_publication(call->pub, &call->installed, call->err, sizeof(call->err));
}

/*
 * _redis_queue(list text, version int8) -> int4: queues the publication
 * recorded in pglearn.publications for (list, version) for the end of the
 * transaction; returns its number of members.
 */
Datum
pglearn_redis_queue(PG_FUNCTION_ARGS)
{
	char	   *list = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		version = PG_GETARG_INT64(1);
	MemoryContext old;
	ListPublication *pub;
	ListPublication **link;

	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot publish to Redis during a parallel operation")));
	if (!callbacks_registered)
	{
		RegisterXactCallback(redis_xact_callback, NULL);
		RegisterSubXactCallback(redis_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (pending_context == NULL)
		pending_context = AllocSetContextCreate(TopTransactionContext,
												"pglearn Redis publications",
												ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(pending_context);
	pub = build_publication(list, version);
	MemoryContextSwitchTo(old);
	pub->subid = GetCurrentSubTransactionId();

	for (link = &pending; *link != NULL; link = &(*link)->next)
		;
	*link = pub;
	PG_RETURN_INT32(pub->nmembers);
}

/*
 * _redis_push(list text) -> text: pushes the list's current publication
 * now, synchronously.  Returns NULL on success (also when Redis already
 * held a newer version), else the problem (naming host:port, never the
 * password).  For publish_pending().
 */
Datum
pglearn_redis_push(PG_FUNCTION_ARGS)
{
	char	   *list = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ListPublication *pub = build_publication(list, -1);
	PushCall	call = {pub, false, {0}};

	if (redis_interruptibly(push_session, &call) == REDIS_IO_OK)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s: %s", pub->target.where, call.err)));
}
