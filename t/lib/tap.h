/*-------------------------------------------------------------------------
 *
 * tap.h
 *	  TAP result lines for the C unit tests (t/unit/), the C counterpart of
 *	  tap.sh.
 *
 * ok() prints "ok N - DESCRIPTION" or "not ok N - DESCRIPTION", okf() the
 * same with a printf-style description; tap_finish() prints the plan, says
 * how many failed, and returns the exit status for main().  Header-only:
 * each test is one program that includes it once (the unit tests of t/unit
 * and of crawler/t alike).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_TAP_H
#define PGLEARN_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	tap_tests = 0;
static int	tap_failed = 0;

static inline void
ok(int passed, const char *description)
{
	tap_tests++;
	if (!passed)
		tap_failed++;
	printf("%sok %d - %s\n", passed ? "" : "not ", tap_tests, description);
}

static inline void okf(int passed, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static inline void
okf(int passed, const char *fmt,...)
{
	va_list		ap;

	tap_tests++;
	if (!passed)
		tap_failed++;
	printf("%sok %d - ", passed ? "" : "not ", tap_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline int
tap_finish(void)
{
	printf("1..%d\n", tap_tests);
	if (tap_failed > 0)
		printf("# %d of %d tests failed\n", tap_failed, tap_tests);
	return tap_failed > 0 ? 1 : 0;
}

#endif							/* PGLEARN_TAP_H */
