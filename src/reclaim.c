/*-------------------------------------------------------------------------
 *
 * reclaim.c
 *	  pglearn._reclaim_pages(): the space a committed rescore batch left
 *	  behind, made reusable by the next batch without waiting for VACUUM.
 *
 * A score is indexed (examples_uncertain_idx, examples_recommend_idx), so a
 * rescore's updates are not HOT, and a full page cannot hold a second
 * version of its rows: every new version goes to another page.  The old
 * versions are dead once their batch commits, and any later access to
 * their page prunes them (heap_page_prune_opt), but only VACUUM tells the
 * free space map about the room that frees; until then every insert and
 * update extends the table.  So a rescore of every row wrote a second copy
 * of the table, and autovacuum cannot help during CALL refresh(): a backend
 * reports its dead tuples to the statistics autovacuum reads only when it
 * goes idle, after the whole CALL.
 *
 * refresh() therefore calls this after each batch's COMMIT with the row
 * versions the batch replaced: their pages are pruned as a reader would
 * prune them, and their free space is recorded in the free space map, as
 * VACUUM records it.  The next batch's new versions then fill those pages,
 * and the table grows by about one batch instead of doubling.  Nothing here
 * is needed for correctness: pruning removes only versions no snapshot can
 * see, the free space map is a hint, and VACUUM still does everything else
 * (index entries, the visibility map, freezing).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "catalog/pg_class_d.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(pglearn_reclaim_pages);

static int
compare_blocks(const void *a, const void *b)
{
	BlockNumber x = *(const BlockNumber *) a;
	BlockNumber y = *(const BlockNumber *) b;

	return (x > y) - (x < y);
}

/*
 * _reclaim_pages(rel regclass, versions tid[]) RETURNS int8: prunes the
 * pages of the given row versions and records their free space; returns
 * how many pages it looked at.  Needs UPDATE on the table (only its writers
 * have a reason to call it); NULL versions are ignored.
 */
Datum
pglearn_reclaim_pages(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *versions = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *items;
	bool	   *nulls;
	int			n;
	BlockNumber *blocks;
	int			nblocks = 0;
	BlockNumber rel_blocks;
	Relation	rel;
	int64		pages = 0;
	BlockNumber last = InvalidBlockNumber;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errdetail("Reclaiming a table's free space needs UPDATE on it.")));
	if (ARR_NDIM(versions) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("versions must be a one-dimensional array of tid")));

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_tableam != GetHeapamTableAmRoutine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a heap table", RelationGetRelationName(rel))));

	deconstruct_array(versions, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT,
					  &items, &nulls, &n);
	blocks = palloc(sizeof(BlockNumber) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			blocks[nblocks++] = ItemPointerGetBlockNumber((ItemPointer) DatumGetPointer(items[i]));
	qsort(blocks, nblocks, sizeof(BlockNumber), compare_blocks);

	rel_blocks = RelationGetNumberOfBlocks(rel);
	for (int i = 0; i < nblocks; i++)
	{
		BlockNumber blkno = blocks[i];
		Buffer		buffer;
		Size		free_space;

		if ((i > 0 && blkno == blocks[i - 1]) || blkno >= rel_blocks)
			continue;
		CHECK_FOR_INTERRUPTS();
		buffer = ReadBuffer(rel, blkno);
		/* what a reader does on a page whose versions may be dead */
		heap_page_prune_opt(rel, buffer);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		free_space = PageGetHeapFreeSpace(BufferGetPage(buffer));
		UnlockReleaseBuffer(buffer);
		RecordPageWithFreeSpace(rel, blkno, free_space);
		pages++;
		last = blkno;
	}
	/* the upper levels of the map, so that searches find those pages */
	if (pages > 0)
		FreeSpaceMapVacuumRange(rel, blocks[0], last + 1);

	table_close(rel, AccessShareLock);
	PG_RETURN_INT64(pages);
}
