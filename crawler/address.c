/*
 * address.c: the classification of IP addresses the crawler connects to, and
 * the --allow-cidr allow-list.  Owns the list of ranges that are refused
 * (see crawler/README.md, "What the crawler refuses"); knows nothing about
 * libcurl, URLs or host names: it is given the address a socket is about to
 * be connected to, so DNS answers (rebinding included) cannot get around it.
 *
 * The reference is RFC 6890 and IANA's IPv4 and IPv6 special-purpose address
 * registries.  A crawler has no business with any range there that is not
 * globally reachable, so those are refused; a few that IANA marks globally
 * reachable but that are anycast service addresses no web page lives at
 * (192.0.0.0/24 as a whole, the deprecated 6to4 relay 192.88.99.0/24, the
 * IETF protocol block 2001::/23 but for Teredo) are refused too.  IPv6 is
 * allowed only in 2000::/3, the global unicast block; the rest of the space
 * is unassigned or special.
 */
#include "address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- classification ---- */

typedef struct Ipv4Range
{
	uint32_t	net;
	int			prefix;
	AddressClass class;
} Ipv4Range;

#define IPV4(a, b, c, d) \
	(((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) | (uint32_t) (d))

/* first match wins: 255.255.255.255 sits inside 240.0.0.0/4 */
static const Ipv4Range ipv4_special[] = {
	{IPV4(0, 0, 0, 0), 8, ADDRESS_UNSPECIFIED},
	{IPV4(10, 0, 0, 0), 8, ADDRESS_PRIVATE},
	{IPV4(100, 64, 0, 0), 10, ADDRESS_SHARED},
	{IPV4(127, 0, 0, 0), 8, ADDRESS_LOOPBACK},
	{IPV4(169, 254, 0, 0), 16, ADDRESS_LINK_LOCAL},
	{IPV4(172, 16, 0, 0), 12, ADDRESS_PRIVATE},
	{IPV4(192, 0, 0, 0), 24, ADDRESS_PROTOCOL},
	{IPV4(192, 0, 2, 0), 24, ADDRESS_DOCUMENTATION},
	{IPV4(192, 88, 99, 0), 24, ADDRESS_RESERVED},	/* 6to4 relay anycast, RFC 7526 */
	{IPV4(192, 168, 0, 0), 16, ADDRESS_PRIVATE},
	{IPV4(198, 18, 0, 0), 15, ADDRESS_BENCHMARKING},
	{IPV4(198, 51, 100, 0), 24, ADDRESS_DOCUMENTATION},
	{IPV4(203, 0, 113, 0), 24, ADDRESS_DOCUMENTATION},
	{IPV4(224, 0, 0, 0), 4, ADDRESS_MULTICAST},
	{IPV4(255, 255, 255, 255), 32, ADDRESS_BROADCAST},
	{IPV4(240, 0, 0, 0), 4, ADDRESS_RESERVED},
};

AddressClass
address_classify_ipv4(const uint8_t addr[4])
{
	uint32_t	a = IPV4(addr[0], addr[1], addr[2], addr[3]);

	for (size_t i = 0; i < sizeof(ipv4_special) / sizeof(ipv4_special[0]); i++)
	{
		const Ipv4Range *r = &ipv4_special[i];
		uint32_t	mask = r->prefix == 0 ? 0 : ~(uint32_t) 0 << (32 - r->prefix);

		if ((a & mask) == r->net)
			return r->class;
	}
	return ADDRESS_PUBLIC;
}

/* do the first prefix bits of a and b agree? */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
	int			whole = prefix / 8;
	int			rest = prefix % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

typedef struct Ipv6Range
{
	uint8_t		net[16];
	int			prefix;
	AddressClass class;
} Ipv6Range;

/*
 * Plain IPv6 ranges, checked after the embedded forms and after the test for
 * 2000::/3; first match wins (2001::/32 Teredo and 2001:2::/48 come before
 * 2001::/23 around them).
 */
static const Ipv6Range ipv6_global_special[] = {
	{{0x20, 0x01, 0x0d, 0xb8}, 32, ADDRESS_DOCUMENTATION},
	{{0x3f, 0xff}, 20, ADDRESS_DOCUMENTATION},	/* RFC 9637 */
	{{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, ADDRESS_BENCHMARKING},
	{{0x20, 0x01}, 23, ADDRESS_PROTOCOL},
};

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t nat64_prefix[12] = {0x00, 0x64, 0xff, 0x9b};
static const uint8_t nat64_local_prefix[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};
static const uint8_t teredo_prefix[4] = {0x20, 0x01, 0x00, 0x00};

/*
 * Give *verdict the class of the embedded IPv4 address v4 if that is not
 * public; true if it did.
 */
static bool
embedded(const uint8_t v4[4], AddressForm form, AddressVerdict *verdict)
{
	AddressClass c = address_classify_ipv4(v4);

	if (c == ADDRESS_PUBLIC)
		return false;
	verdict->class = c;
	verdict->form = form;
	memcpy(verdict->ipv4, v4, 4);
	return true;
}

void
address_classify_ipv6(const uint8_t addr[16], AddressVerdict *verdict)
{
	static const uint8_t zero[16] = {0};

	memset(verdict, 0, sizeof(*verdict));
	verdict->class = ADDRESS_PUBLIC;

	if (memcmp(addr, zero, 16) == 0)
	{
		verdict->class = ADDRESS_UNSPECIFIED;
		return;
	}
	if (memcmp(addr, zero, 15) == 0 && addr[15] == 1)
	{
		verdict->class = ADDRESS_LOOPBACK;
		return;
	}

	/*
	 * An embedded IPv4 address classifies as itself: ::ffff:127.0.0.1 is
	 * loopback on a dual-stack socket.  A mapped or compatible address with
	 * a public IPv4 is public too; the other embedding forms reach a
	 * gateway, and are public when what they embed is.
	 */
	if (memcmp(addr, mapped_prefix, 12) == 0)
	{
		if (!embedded(addr + 12, ADDRESS_FORM_MAPPED, verdict))
			verdict->class = ADDRESS_PUBLIC;
		return;
	}
	if (memcmp(addr, zero, 12) == 0)
	{
		if (!embedded(addr + 12, ADDRESS_FORM_COMPATIBLE, verdict))
			verdict->class = ADDRESS_PUBLIC;
		return;
	}
	if (memcmp(addr, nat64_prefix, 12) == 0)
	{
		if (!embedded(addr + 12, ADDRESS_FORM_NAT64, verdict))
			verdict->class = ADDRESS_PUBLIC;
		return;
	}

	/*
	 * Local-use NAT64: where the IPv4 address sits depends on the prefix
	 * length the operator chose (/48 to /96), and the block is not globally
	 * reachable (RFC 8215), so it is refused whatever it embeds.
	 */
	if (memcmp(addr, nat64_local_prefix, 6) == 0)
	{
		verdict->class = ADDRESS_NAT64_LOCAL;
		return;
	}
	if (addr[0] == 0xff)
	{
		verdict->class = ADDRESS_MULTICAST;
		return;
	}
	if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
	{
		verdict->class = ADDRESS_LINK_LOCAL;
		return;
	}
	if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0xc0)
	{
		verdict->class = ADDRESS_SITE_LOCAL;
		return;
	}
	if ((addr[0] & 0xfe) == 0xfc)
	{
		verdict->class = ADDRESS_UNIQUE_LOCAL;
		return;
	}
	/* outside global unicast: ::/8's rest, 100::/64 discard, 5f00::/16 SRv6... */
	if ((addr[0] & 0xe0) != 0x20)
	{
		verdict->class = ADDRESS_RESERVED;
		return;
	}
	/* 6to4: 2002:AABB:CCDD::/48 carries a.b.c.d in bits 16-47 */
	if (addr[0] == 0x20 && addr[1] == 0x02)
	{
		if (!embedded(addr + 2, ADDRESS_FORM_6TO4, verdict))
			verdict->class = ADDRESS_PUBLIC;
		return;
	}

	/*
	 * Teredo: 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, the server's IPv4 in
	 * bits 32-63 and the client's, inverted, in the last 32.  Both must be
	 * public.
	 */
	if (memcmp(addr, teredo_prefix, 4) == 0)
	{
		uint8_t		client[4];

		for (int i = 0; i < 4; i++)
			client[i] = (uint8_t) ~addr[12 + i];
		if (!embedded(addr + 4, ADDRESS_FORM_TEREDO_SERVER, verdict) &&
			!embedded(client, ADDRESS_FORM_TEREDO_CLIENT, verdict))
			verdict->class = ADDRESS_PUBLIC;
		return;
	}
	for (size_t i = 0; i < sizeof(ipv6_global_special) / sizeof(ipv6_global_special[0]); i++)
	{
		const Ipv6Range *r = &ipv6_global_special[i];

		if (prefix_equal(addr, r->net, r->prefix))
		{
			verdict->class = r->class;
			return;
		}
	}
}

/*
 * The address of sa as 16 bytes (IPv4 as IPv4-mapped) and whether it was
 * IPv4; false if sa is not a complete sockaddr_in/sockaddr_in6.  Copies, so
 * sa need not be aligned (libcurl's struct curl_sockaddr embeds a plain
 * struct sockaddr with the longer address behind it).
 */
static bool
sockaddr_bytes(const struct sockaddr *sa, socklen_t len, uint8_t out[16], bool *ipv4)
{
	sa_family_t family;

	if (sa == NULL || len < (socklen_t) (offsetof(struct sockaddr, sa_family) + sizeof(family)))
		return false;
	memcpy(&family, (const char *) sa + offsetof(struct sockaddr, sa_family), sizeof(family));
	if (family == AF_INET && len >= (socklen_t) sizeof(struct sockaddr_in))
	{
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		memcpy(out, mapped_prefix, 12);
		memcpy(out + 12, &sin.sin_addr, 4);
		*ipv4 = true;
		return true;
	}
	if (family == AF_INET6 && len >= (socklen_t) sizeof(struct sockaddr_in6))
	{
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(out, &sin6.sin6_addr, 16);
		*ipv4 = false;
		return true;
	}
	return false;
}

void
address_verdict(const struct sockaddr *sa, socklen_t len, AddressVerdict *verdict)
{
	uint8_t		bytes[16];
	bool		ipv4;

	memset(verdict, 0, sizeof(*verdict));
	if (!sockaddr_bytes(sa, len, bytes, &ipv4))
	{
		verdict->class = ADDRESS_NOT_IP;
		return;
	}
	if (ipv4)
		verdict->class = address_classify_ipv4(bytes + 12);
	else
		address_classify_ipv6(bytes, verdict);
}

AddressClass
address_classify(const struct sockaddr *sa, socklen_t len)
{
	AddressVerdict v;

	address_verdict(sa, len, &v);
	return v.class;
}

const char *
address_class_text(AddressClass class)
{
	switch (class)
	{
		case ADDRESS_PUBLIC:
			return "a public address";
		case ADDRESS_UNSPECIFIED:
			return "an unspecified (\"this network\") address";
		case ADDRESS_LOOPBACK:
			return "a loopback address";
		case ADDRESS_PRIVATE:
			return "a private address";
		case ADDRESS_SHARED:
			return "a carrier-grade NAT (shared) address";
		case ADDRESS_LINK_LOCAL:
			return "a link-local address";
		case ADDRESS_UNIQUE_LOCAL:
			return "a unique local (private) address";
		case ADDRESS_SITE_LOCAL:
			return "a site-local address";
		case ADDRESS_NAT64_LOCAL:
			return "a local-use NAT64 address";
		case ADDRESS_PROTOCOL:
			return "an IETF protocol assignment address";
		case ADDRESS_DOCUMENTATION:
			return "a documentation address";
		case ADDRESS_BENCHMARKING:
			return "a benchmarking address";
		case ADDRESS_MULTICAST:
			return "a multicast address";
		case ADDRESS_BROADCAST:
			return "the broadcast address";
		case ADDRESS_RESERVED:
			return "a reserved address";
		case ADDRESS_NOT_IP:
		case ADDRESS_CLASS_COUNT:
			break;
	}
	return "not an IP address";
}

static const char *
form_text(AddressForm form)
{
	switch (form)
	{
		case ADDRESS_FORM_PLAIN:
			break;
		case ADDRESS_FORM_MAPPED:
			return "IPv4-mapped";
		case ADDRESS_FORM_COMPATIBLE:
			return "IPv4-compatible";
		case ADDRESS_FORM_NAT64:
			return "NAT64 for";
		case ADDRESS_FORM_6TO4:
			return "6to4 for";
		case ADDRESS_FORM_TEREDO_SERVER:
			return "Teredo server";
		case ADDRESS_FORM_TEREDO_CLIENT:
			return "Teredo client";
	}
	return "";
}

void
address_describe(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	uint8_t		bytes[16];
	bool		ipv4;
	char		text[INET6_ADDRSTRLEN];
	char		v4text[INET_ADDRSTRLEN];
	AddressVerdict v;

	if (size == 0)
		return;
	if (!sockaddr_bytes(sa, len, bytes, &ipv4))
	{
		snprintf(buf, size, "the address is %s", address_class_text(ADDRESS_NOT_IP));
		return;
	}
	address_verdict(sa, len, &v);
	if (inet_ntop(ipv4 ? AF_INET : AF_INET6, ipv4 ? bytes + 12 : bytes, text, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	if (v.form == ADDRESS_FORM_PLAIN)
		snprintf(buf, size, "%s is %s", text, address_class_text(v.class));
	else
	{
		if (inet_ntop(AF_INET, v.ipv4, v4text, sizeof(v4text)) == NULL)
			snprintf(v4text, sizeof(v4text), "?");
		snprintf(buf, size, "%s (%s %s) is %s", text, form_text(v.form), v4text,
				 address_class_text(v.class));
	}
}

/* ---- the allow-list ---- */

static void
set_error(char *err, size_t errsize, const char *fmt, const char *arg)
{
	if (errsize > 0)
		snprintf(err, errsize, fmt, arg);
}

bool
address_allow_parse(const char *text, AddressRange *range, char *err, size_t errsize)
{
	char		host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t		hostlen;
	long		prefix;
	int			max_prefix;
	uint8_t		bytes[16];
	struct in_addr a4;
	struct in6_addr a6;
	bool		ipv4;

	memset(range, 0, sizeof(*range));
	if (text == NULL || text[0] == '\0')
	{
		set_error(err, errsize, "an empty address range%s", "");
		return false;
	}
	slash = strchr(text, '/');
	hostlen = slash ? (size_t) (slash - text) : strlen(text);
	if (hostlen == 0 || hostlen >= sizeof(host))
	{
		set_error(err, errsize, "\"%.100s\" is not an IP address or CIDR range", text);
		return false;
	}
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(AF_INET, host, &a4) == 1)
	{
		ipv4 = true;
		max_prefix = 32;
		memcpy(bytes, mapped_prefix, 12);
		memcpy(bytes + 12, &a4, 4);
	}
	else if (inet_pton(AF_INET6, host, &a6) == 1)
	{
		ipv4 = false;
		max_prefix = 128;
		memcpy(bytes, &a6, 16);
	}
	else
	{
		set_error(err, errsize, "\"%.100s\" is not an IP address or CIDR range", text);
		return false;
	}

	prefix = max_prefix;
	if (slash)
	{
		const char *p = slash + 1;

		/* digits only, no sign, no blanks, no leading zero: "/08" is a typo */
		if (p[0] == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0'))
		{
			set_error(err, errsize, "\"%.100s\": the prefix length after / must be a number", text);
			return false;
		}
		prefix = 0;
		for (; *p; p++)
		{
			if (*p < '0' || *p > '9')
			{
				set_error(err, errsize, "\"%.100s\": the prefix length after / must be a number", text);
				return false;
			}
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix > max_prefix)
		{
			set_error(err, errsize, ipv4 ? "\"%.100s\": an IPv4 prefix length is at most 32" :
					  "\"%.100s\": an IPv6 prefix length is at most 128", text);
			return false;
		}
	}
	if (ipv4)
		prefix += 96;

	/* bits right of the prefix must be zero */
	for (int bit = (int) prefix; bit < 128; bit++)
		if (bytes[bit / 8] & (0x80 >> (bit % 8)))
		{
			set_error(err, errsize,
					  "\"%.100s\" has bits set right of its prefix length (give the network address)",
					  text);
			return false;
		}

	memcpy(range->net, bytes, 16);
	range->prefix = (int) prefix;
	range->ipv4 = ipv4;
	return true;
}

bool
address_range_contains(const AddressRange *range, const uint8_t addr[16])
{
	return prefix_equal(addr, range->net, range->prefix);
}

bool
address_policy_add(AddressPolicy *policy, const char *text, char *err, size_t errsize)
{
	AddressRange r;

	if (!address_allow_parse(text, &r, err, errsize))
		return false;
	if (policy->nranges == policy->cap)
	{
		size_t		cap = policy->cap ? policy->cap * 2 : 4;
		AddressRange *grown = realloc(policy->ranges, cap * sizeof(AddressRange));

		if (grown == NULL)
		{
			set_error(err, errsize, "out of memory%s", "");
			return false;
		}
		policy->ranges = grown;
		policy->cap = cap;
	}
	policy->ranges[policy->nranges++] = r;
	return true;
}

void
address_policy_free(AddressPolicy *policy)
{
	free(policy->ranges);
	memset(policy, 0, sizeof(*policy));
}

bool
address_allowed(const AddressPolicy *policy, const struct sockaddr *sa, socklen_t len)
{
	uint8_t		bytes[16];
	bool		ipv4;

	if (policy == NULL || !sockaddr_bytes(sa, len, bytes, &ipv4))
		return false;
	for (size_t i = 0; i < policy->nranges; i++)
		if (address_range_contains(&policy->ranges[i], bytes))
			return true;
	return false;
}

bool
address_permitted(const AddressPolicy *policy, const struct sockaddr *sa, socklen_t len,
				  char *reason, size_t reason_size)
{
	if (policy && policy->allow_all)
		return true;
	if (address_classify(sa, len) == ADDRESS_PUBLIC || address_allowed(policy, sa, len))
		return true;
	address_describe(sa, len, reason, reason_size);
	return false;
}
