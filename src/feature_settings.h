/*-------------------------------------------------------------------------
 *
 * feature_settings.h
 *	  The settings an article's feature vector is computed with, their
 *	  bounds and their defaults: the one definition features.c, train.c,
 *	  the model format (model_parse.c) and scoring by name (classify.c)
 *	  share.
 *
 * Plain C with no PostgreSQL headers, so that the model parser, which
 * checks the settings a model records, can be fuzzed and unit-tested on its
 * own.  SQL reads the defaults through pglearn.feature_settings(), never as
 * literals of its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_FEATURE_SETTINGS_H
#define PGLEARN_FEATURE_SETTINGS_H

/* features()' hash space: index = hash & (2^hash_bits - 1) */
#define FEATURES_MIN_HASH_BITS		1
#define FEATURES_MAX_HASH_BITS		30
#define FEATURES_DEFAULT_HASH_BITS	20	/* about a million buckets */

/* log(1 + tf), L2-normalised; binary: 0/1 indicators plus a bias token */
#define FEATURES_DEFAULT_BINARY		0

/*
 * Which texts of an article features(url, title, body) is given, and how
 * they are put together.  A model records the value it was trained with,
 * so that a later version that computes an article's features differently
 * adds a value here and still scores every stored model as it was trained,
 * instead of silently feeding it vectors of another kind.
 *
 * FEATURES_FIELDS_ARTICLE: the article's url and title as they are, and its
 * description and body joined by a newline as the body
 * (pglearn.article_text()); every scorer and fit() compute exactly this.
 * Its name in a model's text form and in model_info() is
 * "url,title,description+body".
 *
 * 0 is no value: it is what the same four bytes held in model format 1,
 * whose models record no settings.
 */
typedef enum FeatureFields
{
	FEATURES_FIELDS_ARTICLE = 1
} FeatureFields;

#define FEATURES_FIELDS_FIRST		FEATURES_FIELDS_ARTICLE
#define FEATURES_FIELDS_LAST		FEATURES_FIELDS_ARTICLE
#define FEATURES_DEFAULT_FIELDS		FEATURES_FIELDS_ARTICLE

#endif							/* PGLEARN_FEATURE_SETTINGS_H */
