/*-------------------------------------------------------------------------
 *
 * featurize.h
 *	  Turning articles into feature vectors, for other C files: the
 *	  interface of features.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_FEATURIZE_H
#define PGLEARN_FEATURIZE_H

#include "postgres.h"
#include "fmgr.h"

#include "tokenize.h"

#include "feature_settings.h"	/* hash_bits and binary: bounds, defaults */

/*
 * features(url, title, body, hash_bits, binary): not strict, so other C
 * code may call it directly with NULL fields.
 */
extern Datum pglearn_features(PG_FUNCTION_ARGS);

/*
 * The tokens features() takes from a title or body (prefix + each word or
 * character bigram, NFKC-normalised, lower-cased), in text order.  The
 * callback may ereport, or return nonzero to stop the walk.
 */
extern void features_text_tokens(text *t, const char *prefix,
								 token_callback callback, void *arg);

/* ERROR unless hash_bits is one features() accepts (22023, as features()). */
extern void features_check_hash_bits(int32 hash_bits);

#endif							/* PGLEARN_FEATURIZE_H */
