/*-------------------------------------------------------------------------
 *
 * fuzz_address.c
 *	  libFuzzer target for the crawler's address classifier and --allow-cidr
 *	  parser (crawler/address.c).  Addresses are data: nothing is resolved
 *	  or connected to.
 *
 * Each input is read three ways: as the text of an --allow-cidr range, as
 * a raw IPv6 address (its first 16 bytes, zero-padded) and as a raw IPv4
 * address (its first 4).  Beyond "no crash, no sanitizer report":
 *	- a parsed range has its host bits zero; its first and last addresses
 *	  are inside it, the address with the last prefix bit flipped is not;
 *	  printed back as text it parses to the same range;
 *	- every address gets a class of the enum, never NOT_IP for a complete
 *	  sockaddr, and a reason text that fits ADDRESS_REASON_SIZE;
 *	- an IPv4 address classifies the same as itself, through a sockaddr_in,
 *	  IPv4-mapped (::ffff:a.b.c.d, also through a sockaddr_in6), NAT64
 *	  (64:ff9b::a.b.c.d) and IPv4-compatible (::a.b.c.d, but for :: and
 *	  ::1); a non-public one makes its 6to4 and Teredo-server forms take
 *	  its class;
 *	- the allow-list treats a.b.c.d and ::ffff:a.b.c.d alike;
 *	- the default policy permits exactly the public addresses, and
 *	  --allow-private permits everything.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

static void
sockaddr4(const uint8_t a[4], struct sockaddr_in *s)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	memcpy(&s->sin_addr, a, 4);
}

static void
sockaddr6(const uint8_t a[16], struct sockaddr_in6 *s)
{
	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, a, 16);
}

static AddressClass
class6(const uint8_t a[16])
{
	AddressVerdict v;

	address_classify_ipv6(a, &v);
	return v.class;
}

/* the reason text of a complete sockaddr: NUL-terminated, fits */
static void
check_reason(const struct sockaddr *sa, socklen_t len)
{
	char		reason[ADDRESS_REASON_SIZE + 1];

	memset(reason, 'x', sizeof(reason));
	address_describe(sa, len, reason, ADDRESS_REASON_SIZE);
	if (memchr(reason, '\0', ADDRESS_REASON_SIZE) == NULL || reason[ADDRESS_REASON_SIZE] != 'x')
		abort();
	/* a cut reason would hide the class: it must fit with room to spare */
	if (strlen(reason) + 1 >= ADDRESS_REASON_SIZE)
		abort();
}

static void
check_range(const AddressRange *r)
{
	uint8_t		last[16];
	uint8_t		flipped[16];
	char		text[INET6_ADDRSTRLEN + 8];
	char		host[INET6_ADDRSTRLEN];
	AddressRange again;

	if (r->prefix < (r->ipv4 ? 96 : 0) || r->prefix > 128)
		abort();
	memcpy(last, r->net, 16);
	for (int bit = r->prefix; bit < 128; bit++)
	{
		if (r->net[bit / 8] & (0x80 >> (bit % 8)))
			abort();			/* host bits are zero */
		last[bit / 8] |= (uint8_t) (0x80 >> (bit % 8));
	}
	if (!address_range_contains(r, r->net) || !address_range_contains(r, last))
		abort();
	if (r->prefix > 0)
	{
		memcpy(flipped, r->net, 16);
		flipped[(r->prefix - 1) / 8] ^= (uint8_t) (0x80 >> ((r->prefix - 1) % 8));
		if (address_range_contains(r, flipped))
			abort();
	}

	/* printed back, it parses to the same range */
	if (r->ipv4)
	{
		if (inet_ntop(AF_INET, r->net + 12, host, sizeof(host)) == NULL)
			abort();
		snprintf(text, sizeof(text), "%s/%d", host, r->prefix - 96);
	}
	else
	{
		if (inet_ntop(AF_INET6, r->net, host, sizeof(host)) == NULL)
			abort();
		snprintf(text, sizeof(text), "%s/%d", host, r->prefix);
	}
	if (!address_allow_parse(text, &again, NULL, 0) ||
		memcmp(again.net, r->net, 16) != 0 || again.prefix != r->prefix)
		abort();
}

static void
check_ipv4(const uint8_t v4[4], const AddressPolicy *policy)
{
	static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	AddressClass c = address_classify_ipv4(v4);
	uint8_t		v6[16];
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	bool		zero_or_one;

	if ((int) c < 0 || c >= ADDRESS_NOT_IP)
		abort();
	sockaddr4(v4, &s4);
	if (address_classify((struct sockaddr *) &s4, sizeof(s4)) != c)
		abort();
	check_reason((struct sockaddr *) &s4, sizeof(s4));

	/* IPv4-mapped, as bytes and through a socket address */
	memcpy(v6, mapped_prefix, 12);
	memcpy(v6 + 12, v4, 4);
	sockaddr6(v6, &s6);
	if (class6(v6) != c || address_classify((struct sockaddr *) &s6, sizeof(s6)) != c)
		abort();
	if (address_allowed(policy, (struct sockaddr *) &s4, sizeof(s4)) !=
		address_allowed(policy, (struct sockaddr *) &s6, sizeof(s6)))
		abort();

	/* NAT64 well-known prefix */
	memset(v6, 0, 16);
	v6[1] = 0x64;
	v6[2] = 0xff;
	v6[3] = 0x9b;
	memcpy(v6 + 12, v4, 4);
	if (class6(v6) != c)
		abort();

	/* IPv4-compatible: :: and ::1 are themselves */
	memset(v6, 0, 16);
	memcpy(v6 + 12, v4, 4);
	zero_or_one = v4[0] == 0 && v4[1] == 0 && v4[2] == 0 && v4[3] <= 1;
	if (!zero_or_one && class6(v6) != c)
		abort();

	/* 6to4 and Teredo take a non-public embedded address's class */
	memset(v6, 0xA5, 16);
	v6[0] = 0x20;
	v6[1] = 0x02;
	memcpy(v6 + 2, v4, 4);
	if (class6(v6) != (c == ADDRESS_PUBLIC ? ADDRESS_PUBLIC : c))
		abort();
	memset(v6, 0x5A, 16);
	v6[0] = 0x20;
	v6[1] = 0x01;
	v6[2] = 0;
	v6[3] = 0;
	memcpy(v6 + 4, v4, 4);
	if (c != ADDRESS_PUBLIC && class6(v6) != c)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	char		err[256];
	AddressRange range;
	AddressPolicy policy;
	uint8_t		v6[16] = {0};
	uint8_t		v4[4] = {0};
	struct sockaddr_in6 s6;
	AddressClass c;

	memset(&policy, 0, sizeof(policy));

	/* the input as an --allow-cidr argument */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (address_allow_parse(text, &range, err, sizeof(err)))
	{
		check_range(&range);
		if (!address_policy_add(&policy, text, err, sizeof(err)) || policy.nranges != 1)
			abort();
	}
	else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
		abort();				/* a refusal always says why */
	free(text);

	/* the input as raw addresses */
	memcpy(v6, data, size < 16 ? size : 16);
	memcpy(v4, data, size < 4 ? size : 4);

	c = class6(v6);
	if ((int) c < 0 || c >= ADDRESS_NOT_IP)
		abort();
	sockaddr6(v6, &s6);
	if (address_classify((struct sockaddr *) &s6, sizeof(s6)) != c)
		abort();
	check_reason((struct sockaddr *) &s6, sizeof(s6));
	if (address_permitted(NULL, (struct sockaddr *) &s6, sizeof(s6), err, sizeof(err)) !=
		(c == ADDRESS_PUBLIC))
		abort();
	if (address_allowed(&policy, (struct sockaddr *) &s6, sizeof(s6)) !=
		(policy.nranges == 1 && address_range_contains(&range, v6)))
		abort();
	check_ipv4(v4, &policy);

	policy.allow_all = true;
	if (!address_permitted(&policy, (struct sockaddr *) &s6, sizeof(s6), err, sizeof(err)))
		abort();
	address_policy_free(&policy);
	return 0;
}
