/*-------------------------------------------------------------------------
 *
 * jsonbuild.h
 *	  Building jsonb objects in C with the platform's jsonb API
 *	  (pushJsonbValue), for the metrics and descriptions pglearn returns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_JSONBUILD_H
#define PGLEARN_JSONBUILD_H

#include "utils/jsonb.h"

typedef struct JsonBuild
{
	JsonbParseState *state;
} JsonBuild;

extern void json_build_begin(JsonBuild *b);
extern void json_build_begin_object(JsonBuild *b, const char *key);
extern void json_build_end_object(JsonBuild *b);
extern void json_build_int64(JsonBuild *b, const char *key, int64 value);
extern void json_build_float8(JsonBuild *b, const char *key, double value);
extern void json_build_bool(JsonBuild *b, const char *key, bool value);
extern void json_build_string(JsonBuild *b, const char *key, const char *value);
extern void json_build_null(JsonBuild *b, const char *key);
extern Jsonb *json_build_finish(JsonBuild *b);

#endif							/* PGLEARN_JSONBUILD_H */
