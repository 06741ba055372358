/*-------------------------------------------------------------------------
 *
 * jsonbuild.c
 *	  jsonb objects built with pushJsonbValue: one object at a time, keys
 *	  and scalar values, nested objects.
 *
 * pglearn's metrics were written as JSON text and parsed back with
 * jsonb_in.  Building the value directly skips the text, and no key or
 * string needs escaping by hand.  pushJsonbValue keeps pointers to keys
 * and strings until the object is finished, so they are copied here and
 * the caller may reuse its buffers.  A float8 becomes the numeric of its
 * shortest exact decimal (what float8out prints), not the 15 digits of a
 * float8-to-numeric cast, so a metric reads back as the same double; NaN
 * and infinities, which JSON has no numbers for, become null.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "jsonbuild.h"

static void
push_key(JsonBuild *b, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.len = strlen(key);
	k.val.string.val = pnstrdup(key, k.val.string.len);
	pushJsonbValue(&b->state, WJB_KEY, &k);
}

static void
push_scalar(JsonBuild *b, const char *key, JsonbValue *value)
{
	push_key(b, key);
	pushJsonbValue(&b->state, WJB_VALUE, value);
}

void
json_build_begin(JsonBuild *b)
{
	b->state = NULL;
	pushJsonbValue(&b->state, WJB_BEGIN_OBJECT, NULL);
}

void
json_build_begin_object(JsonBuild *b, const char *key)
{
	push_key(b, key);
	pushJsonbValue(&b->state, WJB_BEGIN_OBJECT, NULL);
}

void
json_build_end_object(JsonBuild *b)
{
	pushJsonbValue(&b->state, WJB_END_OBJECT, NULL);
}

void
json_build_int64(JsonBuild *b, const char *key, int64 value)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	push_scalar(b, key, &v);
}

void
json_build_float8(JsonBuild *b, const char *key, double value)
{
	char		number[DOUBLE_SHORTEST_DECIMAL_LEN];
	JsonbValue	v;

	if (isnan(value) || isinf(value))
	{
		json_build_null(b, key);
		return;
	}
	double_to_shortest_decimal_buf(value, number);
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(number),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	push_scalar(b, key, &v);
}

void
json_build_bool(JsonBuild *b, const char *key, bool value)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = value;
	push_scalar(b, key, &v);
}

void
json_build_string(JsonBuild *b, const char *key, const char *value)
{
	JsonbValue	v;

	/* the value is read when the object is finished: keep a copy */
	v.type = jbvString;
	v.val.string.len = strlen(value);
	v.val.string.val = pnstrdup(value, v.val.string.len);
	push_scalar(b, key, &v);
}

void
json_build_null(JsonBuild *b, const char *key)
{
	JsonbValue	v;

	v.type = jbvNull;
	push_scalar(b, key, &v);
}

/* Closes the outermost object and returns it. */
Jsonb *
json_build_finish(JsonBuild *b)
{
	JsonbValue *result = pushJsonbValue(&b->state, WJB_END_OBJECT, NULL);

	return JsonbValueToJsonb(result);
}
