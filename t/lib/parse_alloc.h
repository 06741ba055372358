/*-------------------------------------------------------------------------
 *
 * parse_alloc.h
 *	  Storage for the pure parsers (src/fvec_parse.h, src/model_parse.h)
 *	  outside the server, for the unit tests and the fuzz targets.
 *
 * The backend hands the parsers palloc-based callbacks that raise on
 * failure; these are malloc-based and abort instead, which a test or a
 * fuzzer reports as a crash.  Whatever they return is the caller's to
 * free().  Header-only: each test or target is one program.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_PARSE_ALLOC_H
#define PGLEARN_PARSE_ALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* calls of test_alloc_entries() so far, for tests of when storage is asked for */
static int	test_alloc_calls = 0;

/* The grow() of fvec_parse_text() and model_parse_text(). */
static inline void *
test_grow(void *ptr, size_t size, void *arg)
{
	void	   *p = realloc(ptr, size);

	(void) arg;
	if (p == NULL)
		abort();
	return p;
}

/* The FVecEntryAlloc of the binary decoders. */
static inline void
test_alloc_entries(int n, int32_t **indexes, float **values, void *arg)
{
	(void) arg;
	test_alloc_calls++;
	/* a byte more, since malloc(0) may return NULL */
	*indexes = test_grow(NULL, sizeof(int32_t) * (size_t) n + 1, NULL);
	*values = test_grow(NULL, sizeof(float) * (size_t) n + 1, NULL);
}

/* A fuzzer's bytes as the NUL-terminated string a text parser reads. */
static inline char *
test_cstring(const uint8_t *data, size_t size)
{
	char	   *s = test_grow(NULL, size + 1, NULL);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif							/* PGLEARN_PARSE_ALLOC_H */
