/*-------------------------------------------------------------------------
 *
 * wire.h
 *	  Reading and writing the big-endian integers and IEEE floats of the
 *	  binary send/recv forms.
 *
 * Plain C with no PostgreSQL headers, for the pure decoders and encoders
 * (fvec_parse.c, model_parse.c) and their tests.  The byte order and float
 * layout are those of pq_sendint32/64 and pq_sendfloat4/8, so what these
 * write is what the send functions always wrote.  Callers check lengths
 * first; nothing here does.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGLEARN_WIRE_H
#define PGLEARN_WIRE_H

#include <stdint.h>
#include <string.h>

static inline uint32_t
wire_get_uint32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static inline uint64_t
wire_get_uint64(const unsigned char *p)
{
	return ((uint64_t) wire_get_uint32(p) << 32) | wire_get_uint32(p + 4);
}

/* floats travel as the integer with the same bits, as pq_getmsgfloat4 reads them */
static inline float
wire_get_float4(const unsigned char *p)
{
	uint32_t	bits = wire_get_uint32(p);
	float		f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

static inline double
wire_get_float8(const unsigned char *p)
{
	uint64_t	bits = wire_get_uint64(p);
	double		d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static inline void
wire_put_uint32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

static inline void
wire_put_uint64(unsigned char *p, uint64_t v)
{
	wire_put_uint32(p, (uint32_t) (v >> 32));
	wire_put_uint32(p + 4, (uint32_t) v);
}

static inline void
wire_put_float4(unsigned char *p, float f)
{
	uint32_t	bits;

	memcpy(&bits, &f, sizeof(bits));
	wire_put_uint32(p, bits);
}

static inline void
wire_put_float8(unsigned char *p, double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, sizeof(bits));
	wire_put_uint64(p, bits);
}

#endif							/* PGLEARN_WIRE_H */
