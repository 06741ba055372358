/*-------------------------------------------------------------------------
 *
 * model.h
 *	  The trained model type, pglearn.model.
 *
 * A model is a fixed header followed by its sparse weights, which are laid
 * out exactly like an fvec's entries (strictly increasing int32 indexes,
 * then float4 weights).  The header's id is a hash of everything but the
 * id and trained_at, so equal models have equal ids and a cached, decoded
 * model can be recognised by id alone.
 *
 * The model describes the features it was trained on (format 2): the
 * hash_bits and binary settings of features() and which texts of an article
 * went into it.  Scoring an article by model name computes its features
 * with exactly these, so nothing outside the model (pglearn.models.params
 * once) decides them.  model_parse.h says how format 1, which had no such
 * record, is read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_MODEL_H
#define PGLEARN_MODEL_H

#include "postgres.h"
#include "fmgr.h"
#include "datatype/timestamp.h"

#include "model_parse.h"		/* MODEL_MAGIC, MODEL_FORMAT_VERSION, the fields */

/* Its header is mirrored field for field by model_parse.h's ModelHeader. */
typedef struct Model
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	uint32		magic;			/* MODEL_MAGIC */
	int32		version;		/* 1, or MODEL_FORMAT_VERSION (model_parse.h) */
	int32		solver;			/* SolverKind */
	uint64		id;				/* content hash, see model_compute_id */
	TimestampTz trained_at;
	float8		C;				/* regularisation constant */
	float8		epsilon;		/* stopping tolerance */
	float8		bias;			/* value of the bias feature, 0 = none */
	float8		weight_pos;		/* class weight of +1 */
	float8		weight_neg;		/* class weight of -1 */
	float8		platt_a;		/* P(+1) = 1 / (1 + exp(platt_a * margin + */
	float8		platt_b;		/* platt_b)) */
	float8		bias_weight;	/* margin += bias_weight * bias */
	int32		max_iter;
	int32		iterations;
	int32		converged;		/* 1 if the stopping criterion was met */
	int32		n_pos;			/* training rows labelled +1 */
	int32		n_neg;			/* training rows labelled -1 */
	int32		n_features;		/* distinct feature indexes in training */
	int32		nnz;			/* stored weights */
	/* format 2; all 0 in format 1, whose reserved int32 they replace */
	int16		hash_bits;		/* features(..., hash_bits, ...) */
	uint8		binary;			/* features(..., binary): 0 or 1 */
	uint8		fields;			/* FeatureFields: the texts features() got */
	int32		indexes[FLEXIBLE_ARRAY_MEMBER];
	/* float4 weights[nnz] follow the indexes */
} Model;

#define MODEL_HEADER_SIZE	offsetof(Model, indexes)
#define MODEL_SIZE(nnz)		(MODEL_HEADER_SIZE + (Size) (nnz) * (sizeof(int32) + sizeof(float4)))
#define MODEL_WEIGHTS(m)	((float4 *) ((m)->indexes + (m)->nnz))
#define MODEL_MAX_NNZ		(64 * 1024 * 1024)

#define DatumGetModel(x)		((Model *) PG_DETOAST_DATUM(x))
#define PG_GETARG_MODEL_P(n)	DatumGetModel(PG_GETARG_DATUM(n))
#define PG_GETARG_MODEL_P_COPY(n) ((Model *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(n)))

/*
 * Allocate a zeroed model with room for nnz weights, magic and version
 * (MODEL_FORMAT_VERSION) set; the caller sets the feature settings.
 */
extern Model *model_allocate(int nnz);

/* The feature settings an article is scored with under a model. */
typedef struct ModelFeatureSettings
{
	int			hash_bits;
	bool		binary;
	int			fields;			/* FeatureFields */
} ModelFeatureSettings;

/*
 * The settings a model records; for a format-1 model, which records none,
 * the defaults (feature_settings.h), which is what 0.1 assumed of a model
 * stored without params.  Reads the header only.
 */
extern void model_feature_settings(const Model *m, ModelFeatureSettings *settings);

/* Compute and store m->id from the model's content. */
extern void model_set_id(Model *m);

/* Probability of +1 for a margin under the model's calibration. */
extern double model_probability(const Model *m, double margin);

#endif							/* PGLEARN_MODEL_H */
