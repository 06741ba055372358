/*-------------------------------------------------------------------------
 *
 * hex.h
 *	  The value of a hexadecimal digit, for the %XX decoders of the
 *	  tokenizer (src/tokenize.c) and the Redis URL (src/redis_url.c).
 *
 * Plain C, no server headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_HEX_H
#define PGLEARN_HEX_H

/* 0..15 for 0-9, a-f and A-F; -1 for any other byte */
static inline int
hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* PGLEARN_HEX_H */
