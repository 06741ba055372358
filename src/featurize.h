/*-------------------------------------------------------------------------
 *
 * featurize.h
 *	  Turning articles into feature vectors, for other C files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_FEATURIZE_H
#define PGLEARN_FEATURIZE_H

#include "postgres.h"
#include "fmgr.h"

#define FEATURES_DEFAULT_HASH_BITS	20

/*
 * features(url, title, body, hash_bits, binary): not strict, so other C
 * code may call it directly with NULL fields.
 */
extern Datum pglearn_features(PG_FUNCTION_ARGS);

#endif							/* PGLEARN_FEATURIZE_H */
