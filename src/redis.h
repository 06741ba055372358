/*-------------------------------------------------------------------------
 *
 * redis.h
 *	  Publishing recommendation lists to Redis (src/redis.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_REDIS_H
#define PGLEARN_REDIS_H

/* Defines the pglearn.redis_* settings; called once from _PG_init. */
extern void pglearn_redis_init(void);

#endif							/* PGLEARN_REDIS_H */
