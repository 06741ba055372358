/*-------------------------------------------------------------------------
 *
 * model_parse.h
 *	  Reading the text form of a model, reading and writing its binary form,
 *	  and the checks every model from untrusted input must pass.
 *
 * Plain C with no PostgreSQL headers, so the parsers of this untrusted
 * input can be fuzzed and unit-tested on their own (t/fuzz/fuzz_model.c,
 * t/unit/test_serial.c); model.c turns their results into values and their
 * failures into ereport()s.  Three things stay in model.c because they are
 * PostgreSQL's: reading a timestamp (a callback here), the content id's
 * hash (checked by model.c after everything here passed), and printing the
 * text form (shortest-exact float and timestamp output).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_MODEL_PARSE_H
#define PGLEARN_MODEL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "feature_settings.h"
#include "fvec_parse.h"

#define MODEL_MAGIC				0x504c4d4c	/* "PLML" */

/*
 * Format 2 records the feature settings the model was trained with
 * (hash_bits, binary, fields: feature_settings.h) in the four bytes that
 * format 1 reserved and always left zero.  The layout is otherwise the
 * same, so a format-1 value stored before 0.3 is read in place, with no
 * conversion: its settings read as zero, "not recorded", and model.c's
 * model_feature_settings() gives the defaults for it.  Both forms read
 * either version and write a model in the version it has: a format-1
 * value prints as format 1 and reads back bit-identical, id included.
 * train() writes format 2 when it is given the settings (fit() always
 * gives them) and format 1 when not (train.c says why);
 * pglearn.model_upgrade() turns a format-1 model into format 2 with the
 * settings it is told.
 */
#define MODEL_FORMAT_VERSION	2	/* the newest, with feature settings */
#define MODEL_FORMAT_OLDEST		1	/* the oldest version read */

/*
 * A model's fixed header, in plain C types: exactly the layout of the
 * first MODEL_HEADER_SIZE bytes of model.h's Model (model.c checks that at
 * compile time), so one field table serves both.
 */
typedef struct ModelHeader
{
	int32_t		vl_len_;		/* the varlena header's place; unused here */
	uint32_t	magic;			/* MODEL_MAGIC */
	int32_t		version;		/* MODEL_FORMAT_VERSION */
	int32_t		solver;			/* SolverKind */
	uint64_t	id;				/* content hash, see model.c */
	int64_t		trained_at;		/* TimestampTz */
	double		C;
	double		epsilon;
	double		bias;
	double		weight_pos;
	double		weight_neg;
	double		platt_a;
	double		platt_b;
	double		bias_weight;
	int32_t		max_iter;
	int32_t		iterations;
	int32_t		converged;
	int32_t		n_pos;
	int32_t		n_neg;
	int32_t		n_features;
	int32_t		nnz;
	int16_t		hash_bits;		/* format 2: features()' hash_bits, 1..30 */
	uint8_t		binary;			/* format 2: features()' binary, 0 or 1 */
	uint8_t		fields;			/* format 2: FeatureFields */
} ModelHeader;

/*
 * The range of trained_at: PostgreSQL's MIN_TIMESTAMP (4714-11-24 BC) and
 * END_TIMESTAMP (294277 AD), which model.c checks at compile time.
 */
#define MODEL_TIMESTAMP_MIN		INT64_C(-211813488000000000)
#define MODEL_TIMESTAMP_END		INT64_C(9223371331200000000)

typedef enum ModelFieldType
{
	MODEL_FIELD_ID,
	MODEL_FIELD_SOLVER,
	MODEL_FIELD_TIMESTAMP,
	MODEL_FIELD_FLOAT8,
	MODEL_FIELD_INT32,
	MODEL_FIELD_HASH_BITS,		/* int16 in the header */
	MODEL_FIELD_BOOL,			/* uint8 0 or 1; text true or false */
	MODEL_FIELD_FIELDS			/* uint8 FeatureFields; text its name */
} ModelFieldType;

typedef struct ModelField
{
	const char *name;			/* its key in the text form and model_info() */
	size_t		offset;			/* in ModelHeader, and so in Model */
	ModelFieldType type;
	int			since;			/* the first format version that has it */
} ModelField;

/*
 * The header fields after the format version, in the order of the text
 * form, the binary form and model_info(): one table drives all of them.
 * A model of format version v has the fields with since <= v.
 */
extern const ModelField model_fields[];
extern const int model_num_fields;

#define MODEL_FIELD_PTR(header, field, type) \
	((type *) ((char *) (header) + (field)->offset))

/*
 * Binary form, as model_send writes it: int32 format version, the fields
 * of that version in table order (id and timestamp as int64, solver,
 * integers and the feature settings as int32, floats as float8), int32
 * nnz, then the weights as fvec entries (fvec_parse.h), all big-endian.
 */
#define MODEL_BINARY_HEADER_SIZE(version) \
	(4 + 2 * 8 + 8 * 8 + 7 * 4 + ((version) >= 2 ? 3 * 4 : 0) + 4)
#define MODEL_BINARY_SIZE(version, nnz) \
	(MODEL_BINARY_HEADER_SIZE(version) + (size_t) (nnz) * 8)

typedef enum ModelParseStatus
{
	MODEL_PARSE_OK = 0,
	/* text form */
	MODEL_PARSE_EXPECTED_KEY,	/* key missing or out of order: key, at */
	MODEL_PARSE_UNTERMINATED,	/* a quoted value without its closing quote: key */
	MODEL_PARSE_EMPTY_VALUE,	/* key */
	MODEL_PARSE_BAD_INTEGER,	/* not an integer, or out of range: key, value */
	MODEL_PARSE_BAD_ID,			/* not 16 hex digits: value */
	MODEL_PARSE_UNKNOWN_SOLVER, /* value */
	MODEL_PARSE_BAD_TIMESTAMP,	/* the timestamp callback refused it: value */
	MODEL_PARSE_BAD_NUMBER,		/* not a float8: key, value */
	MODEL_PARSE_BAD_BOOL,		/* not true or false: key, value */
	MODEL_PARSE_UNKNOWN_FIELDS, /* not a FeatureFields name: value */
	MODEL_PARSE_EXPECTED_WEIGHTS,	/* no "weights=" after the header */
	MODEL_PARSE_WEIGHTS,		/* weights not a valid fvec: weights_status,
								 * weights_parsed, weights_text */
	/* binary form */
	MODEL_PARSE_TRUNCATED,		/* the data ends inside the header */
	MODEL_PARSE_COUNT_RANGE,	/* weight count negative or too large: nnz */
	MODEL_PARSE_LENGTH,			/* weight bytes other than 8 per weight: nnz,
								 * weight_bytes */
	/* both forms */
	MODEL_PARSE_VERSION,		/* a format version we do not read: version */
	/* the checks of model_check(), both forms */
	MODEL_INVALID_SOLVER,		/* header.solver */
	MODEL_INVALID_TRAINED_AT,	/* trained_at is +-infinity */
	MODEL_INVALID_TRAINED_AT_RANGE, /* trained_at outside what timestamptz
									 * can print */
	MODEL_INVALID_NOT_FINITE,	/* a float field: field */
	MODEL_INVALID_NEGATIVE,		/* an integer field: field */
	MODEL_INVALID_NOT_POSITIVE, /* C, epsilon, class weights <= 0, or bias < 0 */
	MODEL_INVALID_CONVERGED,	/* converged other than 0 or 1 */
	MODEL_INVALID_RESERVED,		/* format 1 with settings (its reserved
								 * bytes not 0) */
	MODEL_INVALID_HASH_BITS,	/* format 2: hash_bits outside 1..30 */
	MODEL_INVALID_BINARY,		/* format 2: binary other than 0 or 1 */
	MODEL_INVALID_FIELDS,		/* format 2: fields not a FeatureFields */
	MODEL_INVALID_WEIGHT_ORDER, /* an index negative or not increasing:
								 * bad_index */
	MODEL_INVALID_WEIGHT_NOT_FINITE /* bad_index */
} ModelParseStatus;

typedef struct ModelParseResult
{
	ModelHeader header;			/* magic, version and nnz set; id as read */
	int32_t    *indexes;		/* header.nnz weight indexes */
	float	   *weights;		/* header.nnz weights */

	/* what is at fault, where the status says so */
	const char *key;			/* a field's name, or "format" */
	const char *at;				/* where the expected key was not (text) */
	const char *value;			/* the value at fault (text) */
	int64_t		version;		/* the unsupported format version */
	const ModelField *field;	/* the field at fault */
	int32_t		bad_index;		/* the weight index at fault */
	size_t		weight_bytes;	/* bytes after the weight count (binary) */
	FVecParseStatus weights_status; /* why the weights are not an fvec */
	FVecParseResult weights_parsed;
	const char *weights_text;	/* the weights as written, after "weights=" */
} ModelParseResult;

/*
 * Reads the trained_at value (quotes removed) into *result; returns 0 if
 * it is not a timestamp.  The backend's reader raises timestamptz_in's own
 * error instead, so it never returns 0.
 */
typedef int (*ModelTimestampFn) (const char *text, int64_t *result, void *arg);

/*
 * Parse the text form in 'input' (NUL-terminated), which is modified:
 * every value is cut out of it in place, and the result's strings point
 * into it.  Keys must come in table order, each "key=value" with values
 * ending at a space unless quoted; then "weights=" and the weights in
 * fvec syntax, read by fvec_parse_text() with at most max_weights entries
 * and arrays from grow() (see there).  On success the model passed
 * model_check(); its id is not checked here.
 */
extern ModelParseStatus model_parse_text(char *input, int max_weights,
										 void *(*grow) (void *ptr, size_t size, void *arg),
										 void *grow_arg,
										 ModelTimestampFn read_timestamp,
										 void *timestamp_arg,
										 ModelParseResult *result);

/*
 * Decode the binary form in data[0..len): all of it must be the one model.
 * Storage for the weights comes from alloc() (see fvec_parse.h) once the
 * count has been checked against max_weights and the length against the
 * count.  On success the model passed model_check(); its id is not
 * checked here.
 */
extern ModelParseStatus model_decode_binary(const unsigned char *data, size_t len,
											int max_weights, FVecEntryAlloc alloc,
											void *alloc_arg,
											ModelParseResult *result);

/*
 * Write the binary form of a model to out, MODEL_BINARY_SIZE(header->version,
 * header->nnz)
 * bytes.
 */
extern void model_encode_binary(unsigned char *out, const ModelHeader *header,
								const int32_t *indexes, const float *weights);

/*
 * Every invariant of a model but its id, in this order: solver, trained_at
 * finite, each field in table order (floats finite, integers
 * non-negative), C, epsilon and class weights positive and bias
 * non-negative, converged 0 or 1, then the feature settings (format 1:
 * none, all zero; format 2: hash_bits, binary, fields in that order), then
 * the weights by the fvec rules.  The first defect is returned, its details in *result.
 */
extern ModelParseStatus model_check(const ModelHeader *header, const int32_t *indexes,
									const float *weights, ModelParseResult *result);

/* Name of a solver kind ("logreg", "svm", "pa"), or NULL if unknown. */
extern const char *model_solver_name(int solver);

/* Name of a FeatureFields value, or NULL if unknown. */
extern const char *model_feature_fields_name(int fields);

#endif							/* PGLEARN_MODEL_PARSE_H */
