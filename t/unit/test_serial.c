/*-------------------------------------------------------------------------
 *
 * test_serial.c
 *	  Standalone TAP test of the pure serialisation code: fvec text and
 *	  binary forms (src/fvec_parse.c), model text and binary forms and
 *	  model checks (src/model_parse.c).  Meant to run under the sanitizers:
 *
 *	  cc -O1 -g -Wall -Wextra -fsanitize=address,undefined -iquote src \
 *		  t/unit/test_serial.c src/model_parse.c src/fvec_parse.c -lm \
 *		  -o /tmp/test_serial
 *	  /tmp/test_serial
 *
 * Hand-checked cases: valid values down to their bytes, every status code,
 * and the boundaries (index 2^31-1, the entry limit, every truncation of
 * a binary header, denormals and -0).  The messages these codes become are
 * model.c's and fvec.c's, tested through SQL by pg_regress; the content
 * id, which needs PostgreSQL's hash, is tested there too.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fvec_parse.h"
#include "model_parse.h"
#include "solver.h"
#include "../lib/parse_alloc.h"
#include "../lib/tap.h"

/* "0000000100000007 3f800000" -> bytes; spaces ignored.  Returns the length. */
static size_t
from_hex(const char *hex, unsigned char *out)
{
	size_t		n = 0;

	for (; *hex; hex++)
	{
		unsigned int byte;

		if (*hex == ' ')
			continue;
		if (sscanf(hex, "%2x", &byte) != 1)
			abort();
		out[n++] = (unsigned char) byte;
		hex++;
	}
	return n;
}

static uint32_t
float_bits(float f)
{
	uint32_t	bits;

	memcpy(&bits, &f, sizeof(bits));
	return bits;
}

/* ---- fvec text ------------------------------------------------------------ */

static FVecParseStatus
parse_fvec(const char *text, int max_entries, FVecParseResult *r)
{
	return fvec_parse_text(text, max_entries, test_grow, NULL, r);
}

static void
free_fvec(FVecParseResult *r)
{
	free(r->indexes);
	free(r->values);
}

static void
check_fvec_status(const char *text, FVecParseStatus expected, int64_t bad_index,
				  const char *desc)
{
	FVecParseResult r;
	FVecParseStatus got = parse_fvec(text, 1000, &r);

	ok(got == expected && (bad_index == -2 || r.bad_index == bad_index), desc);
	if (got != expected)
		printf("#   \"%s\": got status %d, expected %d\n", text, got, expected);
	free_fvec(&r);
}

static void
test_fvec_text(void)
{
	FVecParseResult r;
	char		big[1024];
	size_t		len = 0;
	int			good;

	ok(parse_fvec("{}", 1000, &r) == FVEC_PARSE_OK && r.n == 0, "fvec text {} is empty");
	free_fvec(&r);
	ok(parse_fvec("  { 3 : 1.5 ,  7:-2e-3 }  ", 1000, &r) == FVEC_PARSE_OK && r.n == 2 &&
	   r.indexes[0] == 3 && r.indexes[1] == 7 && r.values[0] == 1.5f && r.values[1] == -2e-3f,
	   "fvec text with spaces everywhere: {3:1.5,7:-0.002}");
	free_fvec(&r);
	ok(parse_fvec("{0:1,2147483647:-3}", 1000, &r) == FVEC_PARSE_OK && r.n == 2 &&
	   r.indexes[0] == 0 && r.indexes[1] == INT32_MAX,
	   "fvec text indexes 0 and 2^31-1 are in range");
	free_fvec(&r);
	ok(parse_fvec("{1:1e-45,2:-0,3:3.4028235e38}", 1000, &r) == FVEC_PARSE_OK &&
	   float_bits(r.values[0]) == 1 && float_bits(r.values[1]) == 0x80000000u &&
	   float_bits(r.values[2]) == 0x7f7fffffu,
	   "fvec text keeps the smallest denormal, -0 and FLT_MAX bit for bit");
	free_fvec(&r);
	ok(parse_fvec("{1:0}", 1000, &r) == FVEC_PARSE_OK && r.n == 1 && r.values[0] == 0.0f,
	   "fvec text keeps an explicit zero");
	free_fvec(&r);

	/* 40 entries: past the parser's first 16-entry arrays */
	len += (size_t) snprintf(big + len, sizeof(big) - len, "{");
	for (int i = 0; i < 40; i++)
		len += (size_t) snprintf(big + len, sizeof(big) - len, "%s%d:%d", i ? "," : "", i * 3, i);
	snprintf(big + len, sizeof(big) - len, "}");
	good = parse_fvec(big, 1000, &r) == FVEC_PARSE_OK && r.n == 40;
	for (int i = 0; good && i < 40; i++)
		good = r.indexes[i] == i * 3 && r.values[i] == (float) i;
	ok(good, "fvec text of 40 entries grows its arrays and keeps every entry");
	free_fvec(&r);

	ok(parse_fvec("{1:1,2:1}", 2, &r) == FVEC_PARSE_OK && r.n == 2,
	   "fvec text of exactly max_entries entries is accepted");
	free_fvec(&r);
	ok(parse_fvec("{1:1,2:1,3:1}", 2, &r) == FVEC_PARSE_TOO_MANY,
	   "fvec text of max_entries + 1 entries: TOO_MANY");
	free_fvec(&r);

	check_fvec_status("", FVEC_PARSE_EXPECTED_OPEN, -1, "fvec text \"\": EXPECTED_OPEN");
	check_fvec_status("1:1", FVEC_PARSE_EXPECTED_OPEN, -1, "fvec text 1:1: EXPECTED_OPEN");
	check_fvec_status("{a:1}", FVEC_PARSE_EXPECTED_INDEX, -1, "fvec text {a:1}: EXPECTED_INDEX");
	check_fvec_status("{-1:1}", FVEC_PARSE_EXPECTED_INDEX, -1, "fvec text {-1:1}: EXPECTED_INDEX");
	check_fvec_status("{1:1,}", FVEC_PARSE_EXPECTED_INDEX, -2, "fvec text {1:1,}: EXPECTED_INDEX");
	check_fvec_status("{2147483648:1}", FVEC_PARSE_INDEX_RANGE, -1,
					  "fvec text index 2^31: INDEX_RANGE");
	check_fvec_status("{99999999999999999999:1}", FVEC_PARSE_INDEX_RANGE, -1,
					  "fvec text index beyond int64: INDEX_RANGE");
	check_fvec_status("{1 1}", FVEC_PARSE_EXPECTED_COLON, 1, "fvec text {1 1}: EXPECTED_COLON");
	check_fvec_status("{1:}", FVEC_PARSE_EXPECTED_NUMBER, 1, "fvec text {1:}: EXPECTED_NUMBER");
	check_fvec_status("{1:x}", FVEC_PARSE_EXPECTED_NUMBER, 1, "fvec text {1:x}: EXPECTED_NUMBER");
	check_fvec_status("{1:NaN}", FVEC_PARSE_VALUE_RANGE, 1, "fvec text NaN: VALUE_RANGE at 1");
	check_fvec_status("{5:-inf}", FVEC_PARSE_VALUE_RANGE, 5, "fvec text -inf: VALUE_RANGE at 5");
	check_fvec_status("{1:1e39}", FVEC_PARSE_VALUE_RANGE, 1,
					  "fvec text 1e39 (beyond float4): VALUE_RANGE");
	check_fvec_status("{1:1,1:2}", FVEC_PARSE_DUPLICATE, 1, "fvec text {1:1,1:2}: DUPLICATE 1");
	check_fvec_status("{2:1,1:1}", FVEC_PARSE_OUT_OF_ORDER, 1, "fvec text {2:1,1:1}: OUT_OF_ORDER 1");
	check_fvec_status("{1:1", FVEC_PARSE_EXPECTED_SEPARATOR, -2,
					  "fvec text {1:1: EXPECTED_SEPARATOR");
	check_fvec_status("{1:1} x", FVEC_PARSE_TRAILING, -1, "fvec text {1:1} x: TRAILING");
}

/* ---- fvec binary ---------------------------------------------------------- */

static FVecRecvStatus
decode_fvec(const char *hex, int max_entries, FVecRecvResult *r)
{
	unsigned char bytes[256];
	size_t		len = from_hex(hex, bytes);

	return fvec_decode_binary(bytes, len, max_entries, test_alloc_entries, NULL, r);
}

/*
 * The number a status reports: the entry count for COUNT_RANGE and LENGTH,
 * the index at fault for the entry checks; 0 for the others.
 */
static int64_t
fvec_detail(FVecRecvStatus status, const FVecRecvResult *r)
{
	switch (status)
	{
		case FVEC_RECV_COUNT_RANGE:
		case FVEC_RECV_LENGTH:
			return r->n;
		case FVEC_RECV_NEGATIVE_INDEX:
		case FVEC_RECV_NOT_INCREASING:
		case FVEC_RECV_NOT_FINITE:
			return r->bad_index;
		default:
			return 0;
	}
}

/* Decode hex; expect a status, its detail, and storage asked for or not. */
static void
check_fvec_binary(const char *hex, int max_entries, FVecRecvStatus expected,
				  int64_t detail, int allocates, const char *desc)
{
	FVecRecvResult r;
	FVecRecvStatus got;
	int			calls = test_alloc_calls;

	got = decode_fvec(hex, max_entries, &r);
	ok(got == expected && fvec_detail(got, &r) == detail &&
	   (test_alloc_calls > calls) == allocates, desc);
	if (got != expected || fvec_detail(got, &r) != detail)
		printf("#   got status %d detail %lld\n", got, (long long) fvec_detail(got, &r));
	free(r.indexes);
	free(r.values);
}

static void
test_fvec_binary(void)
{
	FVecRecvResult r;
	unsigned char out[64];
	unsigned char expected[64];
	size_t		len;
	int32_t		indexes[] = {0, INT32_MAX};
	float		values[] = {-0.0f, 1e-45f};

	ok(decode_fvec("00000000", 10, &r) == FVEC_RECV_OK && r.n == 0, "fvec binary of no entries");
	free(r.indexes);
	free(r.values);
	ok(decode_fvec("00000001 00000007 3f800000", 10, &r) == FVEC_RECV_OK && r.n == 1 &&
	   r.indexes[0] == 7 && r.values[0] == 1.0f, "fvec binary {7:1}");
	free(r.indexes);
	free(r.values);

	len = from_hex("00000002 00000000 7fffffff 80000000 00000001", expected);
	fvec_encode_binary(out, 2, indexes, values);
	ok(FVEC_BINARY_SIZE(2) == len && memcmp(out, expected, len) == 0,
	   "fvec binary encoding of {0:-0,2147483647:1e-45}, byte for byte");
	ok(fvec_decode_binary(out, len, 10, test_alloc_entries, NULL, &r) == FVEC_RECV_OK &&
	   r.n == 2 && r.indexes[1] == INT32_MAX && float_bits(r.values[0]) == 0x80000000u &&
	   float_bits(r.values[1]) == 1, "... and it decodes to the same bits");
	free(r.indexes);
	free(r.values);

	check_fvec_binary("", 10, FVEC_RECV_TRUNCATED, 0, 0, "fvec binary of no bytes: TRUNCATED");
	check_fvec_binary("000000", 10, FVEC_RECV_TRUNCATED, 0, 0, "fvec binary of 3 bytes: TRUNCATED");
	check_fvec_binary("ffffffff", 10, FVEC_RECV_COUNT_RANGE, -1, 0,
					  "fvec binary count -1: COUNT_RANGE -1, nothing allocated");
	check_fvec_binary("00000003", 3, FVEC_RECV_LENGTH, 3, 0,
					  "fvec binary count = max_entries with no entries: LENGTH");
	check_fvec_binary("00000004", 3, FVEC_RECV_COUNT_RANGE, 4, 0,
					  "fvec binary count = max_entries + 1: COUNT_RANGE 4");
	ok(decode_fvec("00000002 00000001 3f800000", 10, &r) == FVEC_RECV_LENGTH &&
	   r.n == 2 && r.entry_bytes == 8, "fvec binary 2 entries in 8 bytes: LENGTH, 8 of 16");
	check_fvec_binary("00000001 00000007 3f800000 00", 10, FVEC_RECV_LENGTH, 1, 0,
					  "fvec binary with a byte after the entries: LENGTH");
	check_fvec_binary("00000001 ffffffff 3f800000", 10, FVEC_RECV_NEGATIVE_INDEX, -1, 1,
					  "fvec binary index -1: NEGATIVE_INDEX -1");
	check_fvec_binary("00000002 00000002 00000001 3f800000 3f800000", 10,
					  FVEC_RECV_NOT_INCREASING, 1, 1, "fvec binary indexes 2, 1: NOT_INCREASING at 1");
	check_fvec_binary("00000002 00000001 00000001 3f800000 3f800000", 10,
					  FVEC_RECV_NOT_INCREASING, 1, 1, "fvec binary index 1 twice: NOT_INCREASING at 1");
	check_fvec_binary("00000001 00000001 7fc00000", 10, FVEC_RECV_NOT_FINITE, 1, 1,
					  "fvec binary NaN value: NOT_FINITE at 1");
	check_fvec_binary("00000001 00000003 ff800000", 10, FVEC_RECV_NOT_FINITE, 3, 1,
					  "fvec binary -infinity value: NOT_FINITE at 3");
	/* entry by entry, the index before the value */
	check_fvec_binary("00000002 00000001 ffffffff 7fc00000 3f800000", 10, FVEC_RECV_NOT_FINITE, 1, 1,
					  "fvec binary NaN at entry 0 is found before a bad index at entry 1");
	check_fvec_binary("00000001 fffffffe 7fc00000", 10, FVEC_RECV_NEGATIVE_INDEX, -2, 1,
					  "fvec binary entry with a negative index and NaN: NEGATIVE_INDEX -2");
}

/* ---- model text ----------------------------------------------------------- */

#define VALID_MODEL \
	"format=2 id=00000000deadbeef solver=svm trained_at=\"2026-11-25 18:40:00.1+00\" " \
	"C=0.5 epsilon=0.1 bias=1 weight_pos=2 weight_neg=1 platt_a=-1.5 platt_b=0.25 " \
	"bias_weight=-0.017231680843113488 max_iter=1000 iterations=7 converged=1 n_pos=3 " \
	"n_neg=2 n_features=5 hash_bits=12 binary=true fields=url,title,description+body " \
	"weights={1:0.5,4:-0.25,2147483647:1e-45}"

/* the timestamp reader's stand-in: remembers its text; "bad" is refused */
static char last_timestamp[64];

static int
read_timestamp(const char *text, int64_t *result, void *arg)
{
	(void) arg;
	snprintf(last_timestamp, sizeof(last_timestamp), "%s", text);
	if (strcmp(text, "bad") == 0)
		return 0;
	*result = strcmp(text, "infinity") == 0 ? INT64_MAX : 1234;
	return 1;
}

/* the text model_with() and format_1_model() return */
static char edited[2048];

/* VALID_MODEL as format 1: no feature settings */
static char *
format_1_model(void)
{
	const char *settings = " hash_bits=12 binary=true fields=url,title,description+body";
	const char *at = strstr(VALID_MODEL, settings);

	snprintf(edited, sizeof(edited), "format=1%.*s%s", (int) (at - VALID_MODEL - 8),
			 VALID_MODEL + 8, at + strlen(settings));
	return edited;
}

/* VALID_MODEL with the first 'from' replaced by 'to' (or as it is, from NULL) */
static char *
model_with(const char *from, const char *to)
{
	const char *at;

	snprintf(edited, sizeof(edited), "%s", VALID_MODEL);
	if (from == NULL)
		return edited;
	at = strstr(VALID_MODEL, from);
	if (at == NULL)
		abort();
	snprintf(edited, sizeof(edited), "%.*s%s%s", (int) (at - VALID_MODEL), VALID_MODEL,
			 to, at + strlen(from));
	return edited;
}

static ModelParseStatus
parse_model(char *text, int max_weights, ModelParseResult *r)
{
	return model_parse_text(text, max_weights, test_grow, NULL, read_timestamp, NULL, r);
}

static void
free_model_text(ModelParseResult *r)
{
	free(r->weights_parsed.indexes);
	free(r->weights_parsed.values);
}

/* Parse VALID_MODEL edited from -> to; expect a status, and for some a detail. */
static void
check_model_text(const char *from, const char *to, ModelParseStatus expected,
				 const char *key, const char *value, const char *desc)
{
	ModelParseResult r;
	ModelParseStatus got = parse_model(model_with(from, to), 1000, &r);
	int			good = got == expected;

	if (key != NULL)
		good = good && ((r.key != NULL && strcmp(r.key, key) == 0) ||
						(r.field != NULL && strcmp(r.field->name, key) == 0));
	if (value != NULL)
		good = good && r.value != NULL && strcmp(r.value, value) == 0;
	ok(good, desc);
	if (got != expected)
		printf("#   got status %d, expected %d\n", got, expected);
	free_model_text(&r);
}

static void
test_model_text(void)
{
	ModelParseResult r;
	char		text[64];

	last_timestamp[0] = '\0';
	ok(parse_model(model_with(NULL, NULL), 1000, &r) == MODEL_PARSE_OK &&
	   r.header.magic == MODEL_MAGIC && r.header.version == 2 &&
	   r.header.id == 0xdeadbeefu && r.header.solver == SOLVER_SVM &&
	   r.header.trained_at == 1234 && r.header.C == 0.5 && r.header.epsilon == 0.1 &&
	   r.header.bias == 1 && r.header.weight_pos == 2 && r.header.weight_neg == 1 &&
	   r.header.platt_a == -1.5 && r.header.platt_b == 0.25 &&
	   r.header.bias_weight == -0.017231680843113488 && r.header.max_iter == 1000 &&
	   r.header.iterations == 7 && r.header.converged == 1 && r.header.n_pos == 3 &&
	   r.header.n_neg == 2 && r.header.n_features == 5 && r.header.nnz == 3 &&
	   r.header.hash_bits == 12 && r.header.binary == 1 &&
	   r.header.fields == FEATURES_FIELDS_ARTICLE && r.indexes[0] == 1 && r.indexes[2] == INT32_MAX &&
	   r.weights[1] == -0.25f && float_bits(r.weights[2]) == 1,
	   "model text: every field and weight read");
	ok(strcmp(last_timestamp, "2026-11-25 18:40:00.1+00") == 0,
	   "model text: the timestamp reader gets trained_at without its quotes");
	free_model_text(&r);

	check_model_text(" C=0.5 ", "   C=0.5   ", MODEL_PARSE_OK, NULL, NULL,
					 "model text: runs of spaces between fields");
	check_model_text("+00\" C=", "+00\"C=", MODEL_PARSE_OK, NULL, NULL,
					 "model text: no space needed after a quoted value");
	check_model_text("C=0.5", "C=\"0.5\"", MODEL_PARSE_OK, NULL, NULL,
					 "model text: any value may be quoted");
	check_model_text("bias=1", "bias=0", MODEL_PARSE_OK, NULL, NULL, "model text: bias 0 is allowed");
	check_model_text("n_pos=3", "n_pos=2147483647", MODEL_PARSE_OK, NULL, NULL,
					 "model text: n_pos 2^31-1 is in range");
	check_model_text("weights={1:0.5,4:-0.25,2147483647:1e-45}", "weights={}", MODEL_PARSE_OK,
					 NULL, NULL, "model text: no weights at all");

	snprintf(text, sizeof(text), "%s", "");
	ok(parse_model(text, 1000, &r) == MODEL_PARSE_EXPECTED_KEY && strcmp(r.key, "format") == 0 &&
	   strcmp(r.at, "") == 0, "model text \"\": EXPECTED_KEY format at \"\"");
	free_model_text(&r);
	snprintf(text, sizeof(text), "%s", "hello");
	ok(parse_model(text, 1000, &r) == MODEL_PARSE_EXPECTED_KEY && strcmp(r.at, "hello") == 0,
	   "model text hello: EXPECTED_KEY format at \"hello\"");
	free_model_text(&r);
	check_model_text("format=2", "format=x", MODEL_PARSE_BAD_INTEGER, "format", "x",
					 "model text format=x: BAD_INTEGER for format");
	check_model_text("format=2", "format=2147483648", MODEL_PARSE_BAD_INTEGER, "format",
					 "2147483648", "model text format=2^31: BAD_INTEGER");
	ok(parse_model(model_with("format=2", "format=3"), 1000, &r) == MODEL_PARSE_VERSION &&
	   r.version == 3, "model text format=3: VERSION 3");
	free_model_text(&r);
	ok(parse_model(model_with("format=2", "format=0"), 1000, &r) == MODEL_PARSE_VERSION &&
	   r.version == 0, "model text format=0: VERSION 0");
	free_model_text(&r);
	ok(parse_model(model_with("format=2 id=00000000deadbeef", "format=-1 id=junk"), 1000, &r) ==
	   MODEL_PARSE_VERSION && r.version == -1,
	   "model text format=-1: VERSION -1, before anything after it is read");
	free_model_text(&r);

	check_model_text("id=00000000deadbeef", "id=xyz", MODEL_PARSE_BAD_ID, NULL, "xyz",
					 "model text id=xyz: BAD_ID");
	check_model_text("id=00000000deadbeef", "id=0000000deadbeef", MODEL_PARSE_BAD_ID, NULL, NULL,
					 "model text id of 15 digits: BAD_ID");
	check_model_text("id=00000000deadbeef", "id=000000000deadbeef", MODEL_PARSE_BAD_ID, NULL, NULL,
					 "model text id of 17 digits: BAD_ID");
	check_model_text("solver=svm", "solver=forest", MODEL_PARSE_UNKNOWN_SOLVER, NULL, "forest",
					 "model text solver=forest: UNKNOWN_SOLVER");
	check_model_text("\"2026-11-25 18:40:00.1+00\"", "bad", MODEL_PARSE_BAD_TIMESTAMP, NULL, "bad",
					 "model text: a timestamp the reader refuses is BAD_TIMESTAMP");
	check_model_text("\"2026-11-25 18:40:00.1+00\"", "infinity", MODEL_INVALID_TRAINED_AT, NULL,
					 NULL, "model text trained_at=infinity: INVALID_TRAINED_AT");
	check_model_text("\"2026-11-25 18:40:00.1+00\" C=0.5", "\"2026-11-25 18:40:00.1+00 C=0.5",
					 MODEL_PARSE_UNTERMINATED, "trained_at", NULL,
					 "model text unterminated quote: UNTERMINATED for trained_at");
	check_model_text("C=0.5", "C=", MODEL_PARSE_EMPTY_VALUE, "C", NULL,
					 "model text C=: EMPTY_VALUE for C");
	check_model_text("C=0.5", "C=\"\"", MODEL_PARSE_EMPTY_VALUE, "C", NULL,
					 "model text C=\"\": EMPTY_VALUE for C");
	check_model_text("C=0.5", "C=abc", MODEL_PARSE_BAD_NUMBER, "C", "abc",
					 "model text C=abc: BAD_NUMBER for C");
	check_model_text("C=0.5", "C=0.5x", MODEL_PARSE_BAD_NUMBER, "C", "0.5x",
					 "model text C=0.5x: BAD_NUMBER for C");
	check_model_text("C=0.5", "C=nan", MODEL_INVALID_NOT_FINITE, "C", NULL,
					 "model text C=nan: NOT_FINITE C");
	check_model_text("platt_b=0.25", "platt_b=1e999", MODEL_INVALID_NOT_FINITE, "platt_b", NULL,
					 "model text platt_b=1e999 (overflow): NOT_FINITE platt_b");
	check_model_text("C=0.5", "C=0", MODEL_INVALID_NOT_POSITIVE, NULL, NULL,
					 "model text C=0: NOT_POSITIVE");
	check_model_text("bias=1", "bias=-1", MODEL_INVALID_NOT_POSITIVE, NULL, NULL,
					 "model text bias=-1: NOT_POSITIVE");
	check_model_text("weight_neg=1", "weight_neg=-0", MODEL_INVALID_NOT_POSITIVE, NULL, NULL,
					 "model text weight_neg=-0: NOT_POSITIVE");
	check_model_text("epsilon=0.1", "eps=0.01", MODEL_PARSE_EXPECTED_KEY, "epsilon", NULL,
					 "model text eps= for epsilon=: EXPECTED_KEY epsilon");
	ok(parse_model(model_with("epsilon=0.1", "eps=0.01"), 1000, &r) == MODEL_PARSE_EXPECTED_KEY &&
	   strncmp(r.at, "eps=0.01 bias=1 weig", 20) == 0,
	   "... at the text where it was expected");
	free_model_text(&r);
	check_model_text("n_pos=3", "n_pos=-3", MODEL_PARSE_BAD_INTEGER, "n_pos", "-3",
					 "model text n_pos=-3: BAD_INTEGER for n_pos");
	check_model_text("n_pos=3", "n_pos=2147483648", MODEL_PARSE_BAD_INTEGER, "n_pos", NULL,
					 "model text n_pos=2^31: BAD_INTEGER");
	check_model_text("converged=1", "converged=2", MODEL_INVALID_CONVERGED, NULL, NULL,
					 "model text converged=2: INVALID_CONVERGED");
	check_model_text(" weights=", " w=", MODEL_PARSE_EXPECTED_WEIGHTS, NULL, NULL,
					 "model text without weights=: EXPECTED_WEIGHTS");

	/* format 2's feature settings */
	check_model_text("hash_bits=12", "hash_bits=1", MODEL_PARSE_OK, NULL, NULL,
					 "model text hash_bits=1 is the least");
	check_model_text("hash_bits=12", "hash_bits=30", MODEL_PARSE_OK, NULL, NULL,
					 "model text hash_bits=30 is the most");
	check_model_text("hash_bits=12", "hash_bits=0", MODEL_INVALID_HASH_BITS, NULL, NULL,
					 "model text hash_bits=0: INVALID_HASH_BITS");
	check_model_text("hash_bits=12", "hash_bits=31", MODEL_INVALID_HASH_BITS, NULL, NULL,
					 "model text hash_bits=31: INVALID_HASH_BITS");
	check_model_text("hash_bits=12", "hash_bits=32768", MODEL_PARSE_BAD_INTEGER, "hash_bits",
					 "32768", "model text hash_bits=2^15: BAD_INTEGER (wider than the header)");
	check_model_text("hash_bits=12", "hash_bits=-1", MODEL_PARSE_BAD_INTEGER, "hash_bits", "-1",
					 "model text hash_bits=-1: BAD_INTEGER");
	check_model_text("binary=true", "binary=false", MODEL_PARSE_OK, NULL, NULL,
					 "model text binary=false");
	check_model_text("binary=true", "binary=1", MODEL_PARSE_BAD_BOOL, "binary", "1",
					 "model text binary=1: BAD_BOOL");
	check_model_text("fields=url,title,description+body", "fields=url", MODEL_PARSE_UNKNOWN_FIELDS,
					 NULL, "url", "model text fields=url: UNKNOWN_FIELDS");
	check_model_text(" hash_bits=12", "", MODEL_PARSE_EXPECTED_KEY, "hash_bits", NULL,
					 "model text format 2 without hash_bits: EXPECTED_KEY hash_bits");

	/* format 1: the same without the settings, which read as zero */
	ok(parse_model(model_with("format=2", "format=1"), 1000, &r) == MODEL_PARSE_EXPECTED_WEIGHTS,
	   "model text format 1 with settings: EXPECTED_WEIGHTS where they start");
	free_model_text(&r);
	ok(parse_model(format_1_model(), 1000, &r) == MODEL_PARSE_OK && r.header.version == 1 &&
	   r.header.hash_bits == 0 && r.header.binary == 0 && r.header.fields == 0 &&
	   r.header.n_features == 5 && r.header.nnz == 3,
	   "model text format 1: read, settings zero");
	free_model_text(&r);

	ok(parse_model(model_with("weights={1:0.5,", "weights={1:NaN,"), 1000, &r) ==
	   MODEL_PARSE_WEIGHTS && r.weights_status == FVEC_PARSE_VALUE_RANGE &&
	   strcmp(r.weights_text, "{1:NaN,4:-0.25,2147483647:1e-45}") == 0,
	   "model text NaN weight: WEIGHTS, VALUE_RANGE, in the weights' text");
	free_model_text(&r);
	ok(parse_model(model_with("weights={1:0.5,4:", "weights={5:0.5,4:"), 1000, &r) ==
	   MODEL_PARSE_WEIGHTS && r.weights_status == FVEC_PARSE_OUT_OF_ORDER,
	   "model text weights out of order: WEIGHTS, OUT_OF_ORDER");
	free_model_text(&r);
	ok(parse_model(model_with(NULL, NULL), 3, &r) == MODEL_PARSE_OK,
	   "model text of exactly max_weights weights");
	free_model_text(&r);
	ok(parse_model(model_with(NULL, NULL), 2, &r) == MODEL_PARSE_WEIGHTS &&
	   r.weights_status == FVEC_PARSE_TOO_MANY, "model text of max_weights + 1: WEIGHTS, TOO_MANY");
	free_model_text(&r);
}

/* ---- model binary --------------------------------------------------------- */

/* VALID_MODEL, parsed and encoded; *len bytes at the returned static buffer */
static unsigned char encoded[1024];

static size_t
valid_model_binary(ModelParseResult *r)
{
	if (parse_model(model_with(NULL, NULL), 1000, r) != MODEL_PARSE_OK)
		abort();
	model_encode_binary(encoded, &r->header, r->indexes, r->weights);
	return MODEL_BINARY_SIZE(r->header.version, r->header.nnz);
}

static ModelParseStatus
decode_model(const unsigned char *bytes, size_t len, int max_weights, ModelParseResult *r)
{
	return model_decode_binary(bytes, len, max_weights, test_alloc_entries, NULL, r);
}

static void
free_model_binary(ModelParseResult *r)
{
	free(r->indexes);
	free(r->weights);
}

/* VALID_MODEL in binary with the 4 or 8 bytes at 'offset' replaced by 'hex' */
static ModelParseStatus
decode_edited(size_t offset, const char *hex, ModelParseResult *r)
{
	ModelParseResult valid;
	unsigned char bytes[1024];
	size_t		len = valid_model_binary(&valid);

	memcpy(bytes, encoded, len);
	from_hex(hex, bytes + offset);
	free_model_text(&valid);
	return decode_model(bytes, len, 1000, r);
}

/*
 * The number a status reports: the version, the weight count, the solver
 * or the weight index at fault; 0 for the others.
 */
static int64_t
model_detail(ModelParseStatus status, const ModelParseResult *r)
{
	switch (status)
	{
		case MODEL_PARSE_VERSION:
			return r->version;
		case MODEL_PARSE_COUNT_RANGE:
			return r->header.nnz;
		case MODEL_INVALID_SOLVER:
			return r->header.solver;
		case MODEL_INVALID_WEIGHT_ORDER:
		case MODEL_INVALID_WEIGHT_NOT_FINITE:
			return r->bad_index;
		default:
			return 0;
	}
}

/* VALID_MODEL in binary, edited at one offset, and what decoding it says */
typedef struct ModelEdit
{
	size_t		offset;
	const char *hex;
	ModelParseStatus status;
	int64_t		detail;			/* see model_detail() */
	const char *field;			/* the field at fault, or NULL */
	const char *desc;
} ModelEdit;

/*
 * Offsets: version 0, id 4, solver 12, trained_at 16, the floats from 24
 * (platt_a 64), the integers from 88 (n_neg 104), hash_bits 112, binary
 * 116, fields 120, weight count 124, indexes 128, weights 140.
 */
static const ModelEdit model_edits[] = {
	{0, "deadbeef", MODEL_PARSE_VERSION, 3735928559, NULL,
	"model binary version 0xdeadbeef: VERSION 3735928559 (read unsigned)"},
	{0, "00000003", MODEL_PARSE_VERSION, 3, NULL, "model binary version 3: VERSION 3"},
	{0, "00000000", MODEL_PARSE_VERSION, 0, NULL, "model binary version 0: VERSION 0"},
	{124, "ffffffff", MODEL_PARSE_COUNT_RANGE, -1, NULL, "model binary weight count -1: COUNT_RANGE"},
	{112, "00000001", MODEL_PARSE_OK, 0, NULL, "model binary hash_bits 1 is accepted"},
	{112, "0000001e", MODEL_PARSE_OK, 0, NULL, "model binary hash_bits 30 is accepted"},
	{112, "00000000", MODEL_INVALID_HASH_BITS, 0, NULL, "model binary hash_bits 0: INVALID_HASH_BITS"},
	{112, "0000001f", MODEL_INVALID_HASH_BITS, 0, NULL, "model binary hash_bits 31: INVALID_HASH_BITS"},
	{112, "0001000c", MODEL_INVALID_HASH_BITS, 0, NULL,
	"model binary hash_bits 2^16 + 12: INVALID_HASH_BITS, not 12"},
	{112, "ffffffff", MODEL_INVALID_HASH_BITS, 0, NULL, "model binary hash_bits -1: INVALID_HASH_BITS"},
	{116, "00000000", MODEL_PARSE_OK, 0, NULL, "model binary binary 0 is accepted"},
	{116, "00000002", MODEL_INVALID_BINARY, 0, NULL, "model binary binary 2: INVALID_BINARY"},
	{116, "00000101", MODEL_INVALID_BINARY, 0, NULL, "model binary binary 257: INVALID_BINARY, not 1"},
	{120, "00000000", MODEL_INVALID_FIELDS, 0, NULL, "model binary fields 0: INVALID_FIELDS"},
	{120, "00000002", MODEL_INVALID_FIELDS, 0, NULL, "model binary fields 2: INVALID_FIELDS"},
	{12, "00000004", MODEL_INVALID_SOLVER, 4, NULL, "model binary solver 4: INVALID_SOLVER"},
	{16, "8000000000000000", MODEL_INVALID_TRAINED_AT, 0, NULL,
	"model binary trained_at -infinity: INVALID_TRAINED_AT"},
	{16, "7fffffffffffffff", MODEL_INVALID_TRAINED_AT, 0, NULL,
	"model binary trained_at infinity: INVALID_TRAINED_AT"},
	{16, "8000000000000001", MODEL_INVALID_TRAINED_AT_RANGE, 0, NULL,
	"model binary trained_at one above -infinity: TRAINED_AT_RANGE"},
	{16, "fd0f7cc1411fa000", MODEL_PARSE_OK, 0, NULL,
	"model binary trained_at 4714-11-24 BC (MIN_TIMESTAMP) is accepted"},
	{16, "fd0f7cc1411f9fff", MODEL_INVALID_TRAINED_AT_RANGE, 0, NULL,
	"model binary trained_at one below MIN_TIMESTAMP: TRAINED_AT_RANGE"},
	{16, "7fffff5bb3b29fff", MODEL_PARSE_OK, 0, NULL,
	"model binary trained_at one below END_TIMESTAMP is accepted"},
	{16, "7fffff5bb3b2a000", MODEL_INVALID_TRAINED_AT_RANGE, 0, NULL,
	"model binary trained_at END_TIMESTAMP: TRAINED_AT_RANGE"},
	{64, "7ff8000000000000", MODEL_INVALID_NOT_FINITE, 0, "platt_a",
	"model binary platt_a NaN: NOT_FINITE platt_a"},
	{104, "ffffffff", MODEL_INVALID_NEGATIVE, 0, "n_neg", "model binary n_neg -1: NEGATIVE n_neg"},
	{128, "ffffffff", MODEL_INVALID_WEIGHT_ORDER, -1, NULL,
	"model binary weight index -1: WEIGHT_ORDER at -1"},
	{132, "00000001", MODEL_INVALID_WEIGHT_ORDER, 1, NULL,
	"model binary weight index 1 twice: WEIGHT_ORDER at 1"},
	{144, "7f800000", MODEL_INVALID_WEIGHT_NOT_FINITE, 4, NULL,
	"model binary weight +infinity: WEIGHT_NOT_FINITE at 4"},
};

static void
test_model_binary(void)
{
	ModelParseResult valid;
	ModelParseResult r;
	unsigned char bytes[1024];
	unsigned char expected[64];
	size_t		len = valid_model_binary(&valid);
	int			all_truncated = 1;
	int			calls;

	/* version, id, solver, trained_at, C: 4 + 8 + 4 + 8 + 8 bytes */
	ok(len == 128 + 3 * 8 && len == MODEL_BINARY_SIZE(2, 3) &&
	   memcmp(encoded, expected,
			  from_hex("00000002 00000000deadbeef 00000002 00000000000004d2 3fe0000000000000",
					   expected)) == 0,
	   "model binary: version, id, solver, trained_at and C, byte for byte");
	ok(memcmp(encoded + 112, expected,
			  from_hex("0000000c 00000001 00000001", expected)) == 0,
	   "model binary: hash_bits, binary and fields as int32, byte for byte");
	ok(memcmp(encoded + 124, expected,
			  from_hex("00000003 00000001 00000004 7fffffff 3f000000 be800000 00000001",
					   expected)) == 0,
	   "model binary: the weight count and the weights as fvec entries, byte for byte");
	calls = test_alloc_calls;
	ok(decode_model(encoded, len, 1000, &r) == MODEL_PARSE_OK &&
	   memcmp(&r.header, &valid.header, sizeof(ModelHeader)) == 0 &&
	   memcmp(r.indexes, valid.indexes, 3 * sizeof(int32_t)) == 0 &&
	   memcmp(r.weights, valid.weights, 3 * sizeof(float)) == 0 && test_alloc_calls == calls + 1,
	   "model binary decodes to the model it was encoded from");
	free_model_binary(&r);

	/* every cut inside the header, at a field boundary or not */
	for (size_t cut = 0; cut < MODEL_BINARY_HEADER_SIZE(2); cut++)
	{
		calls = test_alloc_calls;
		if (decode_model(encoded, cut, 1000, &r) != MODEL_PARSE_TRUNCATED || test_alloc_calls != calls)
		{
			all_truncated = 0;
			printf("#   cut at %zu is not TRUNCATED\n", cut);
		}
		free_model_binary(&r);
	}
	ok(all_truncated, "model binary cut anywhere in its 128-byte header: TRUNCATED");

	ok(decode_model(encoded, len - 1, 1000, &r) == MODEL_PARSE_LENGTH &&
	   r.header.nnz == 3 && r.weight_bytes == 23, "model binary a byte short: LENGTH, 23 of 24");
	free_model_binary(&r);
	memcpy(bytes, encoded, len);
	bytes[len] = 0;
	ok(decode_model(bytes, len + 1, 1000, &r) == MODEL_PARSE_LENGTH && r.weight_bytes == 25,
	   "model binary a byte long: LENGTH, 25 of 24");
	free_model_binary(&r);
	ok(decode_model(encoded, len, 2, &r) == MODEL_PARSE_COUNT_RANGE && r.header.nnz == 3 &&
	   r.indexes == NULL, "model binary of max_weights + 1 weights: COUNT_RANGE, nothing allocated");
	free_model_binary(&r);

	for (size_t i = 0; i < sizeof(model_edits) / sizeof(model_edits[0]); i++)
	{
		const ModelEdit *e = &model_edits[i];
		ModelParseStatus got = decode_edited(e->offset, e->hex, &r);
		int64_t		detail = model_detail(got, &r);

		ok(got == e->status && detail == e->detail &&
		   (e->field == NULL || (r.field != NULL && strcmp(r.field->name, e->field) == 0)),
		   e->desc);
		if (got != e->status || detail != e->detail)
			printf("#   got status %d detail %lld\n", got, (long long) detail);
		free_model_binary(&r);
	}

	/* format 1: the same header less the settings, 116 bytes */
	free_model_text(&valid);
	if (parse_model(format_1_model(), 1000, &valid) != MODEL_PARSE_OK)
		abort();
	model_encode_binary(encoded, &valid.header, valid.indexes, valid.weights);
	ok(MODEL_BINARY_SIZE(1, 3) == 116 + 3 * 8 &&
	   memcmp(encoded + 108, expected,
			  from_hex("00000005 00000003 00000001", expected)) == 0,
	   "model binary format 1: n_features, then the weight count, no settings");
	ok(decode_model(encoded, MODEL_BINARY_SIZE(1, 3), 1000, &r) == MODEL_PARSE_OK &&
	   memcmp(&r.header, &valid.header, sizeof(ModelHeader)) == 0 && r.header.version == 1,
	   "model binary format 1 decodes to the model it was encoded from");
	free_model_binary(&r);
	ok(decode_model(encoded, MODEL_BINARY_SIZE(1, 3) - 1, 1000, &r) == MODEL_PARSE_LENGTH,
	   "model binary format 1 a byte short: LENGTH");
	free_model_binary(&r);
	valid.header.hash_bits = 20;
	ok(model_check(&valid.header, valid.indexes, valid.weights, &r) == MODEL_INVALID_RESERVED,
	   "model_check: format 1 with hash_bits (its reserved bytes) is INVALID_RESERVED");
	valid.header.hash_bits = 0;
	valid.header.fields = FEATURES_FIELDS_ARTICLE;
	ok(model_check(&valid.header, valid.indexes, valid.weights, &r) == MODEL_INVALID_RESERVED,
	   "model_check: format 1 with fields is INVALID_RESERVED");
	free_model_text(&valid);

	ok(strcmp(model_feature_fields_name(FEATURES_FIELDS_ARTICLE), "url,title,description+body") == 0 &&
	   model_feature_fields_name(0) == NULL && model_feature_fields_name(2) == NULL,
	   "model_feature_fields_name: the one kind of fields, and NULL around it");

	ok(strcmp(model_solver_name(SOLVER_LOGREG), "logreg") == 0 &&
	   strcmp(model_solver_name(SOLVER_SVM), "svm") == 0 &&
	   strcmp(model_solver_name(SOLVER_PA), "pa") == 0 &&
	   model_solver_name(0) == NULL && model_solver_name(4) == NULL,
	   "model_solver_name: the three solvers, and NULL around them");
}

int
main(void)
{
	test_fvec_text();
	test_fvec_binary();
	test_model_text();
	test_model_binary();
	return tap_finish();
}
