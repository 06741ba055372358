/*-------------------------------------------------------------------------
 *
 * features.h
 *	  Turning articles into feature vectors, for other C files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_FEATURES_H
#define PGLEARN_FEATURES_H

#include "postgres.h"

#include "fvec.h"

#define FEATURES_DEFAULT_HASH_BITS	20

/*
 * The fvec of an article, exactly as SQL features(url, title, body,
 * hash_bits, binary) computes it.  Any text may be NULL (treated as empty).
 * The result is palloc'd in the current memory context.
 */
extern FVec *features_extract(text *url, text *title, text *body,
							  int hash_bits, bool binary);

#endif							/* PGLEARN_FEATURES_H */
