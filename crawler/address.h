/*
 * address.h: which IP addresses the crawler may connect to.
 *
 * A pure classifier of IPv4 and IPv6 addresses (RFC 6890 and IANA's
 * special-purpose address registries) and a CIDR allow-list.  Plain C: no
 * libcurl, no libpq, no sockets opened and no names resolved, so the unit
 * test and the fuzz target can feed it addresses as data.  fetch.c asks it
 * about every address libcurl is about to connect to.
 */
#ifndef PGLEARN_ADDRESS_H
#define PGLEARN_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* What an address is; everything but ADDRESS_PUBLIC is refused by default. */
typedef enum AddressClass
{
	ADDRESS_PUBLIC = 0,
	ADDRESS_UNSPECIFIED,		/* 0.0.0.0/8 "this network", ::/128 */
	ADDRESS_LOOPBACK,			/* 127.0.0.0/8, ::1/128 */
	ADDRESS_PRIVATE,			/* 10/8, 172.16/12, 192.168/16 (RFC 1918) */
	ADDRESS_SHARED,				/* 100.64.0.0/10, carrier-grade NAT (RFC 6598) */
	ADDRESS_LINK_LOCAL,			/* 169.254.0.0/16, fe80::/10 */
	ADDRESS_UNIQUE_LOCAL,		/* fc00::/7 (RFC 4193) */
	ADDRESS_SITE_LOCAL,			/* fec0::/10, deprecated (RFC 3879) */
	ADDRESS_NAT64_LOCAL,		/* 64:ff9b:1::/48, local-use NAT64 (RFC 8215) */
	ADDRESS_PROTOCOL,			/* 192.0.0.0/24, 2001::/23: IETF protocol assignments */
	ADDRESS_DOCUMENTATION,		/* 192.0.2/24, 198.51.100/24, 203.0.113/24,
								 * 2001:db8::/32, 3fff::/20 */
	ADDRESS_BENCHMARKING,		/* 198.18.0.0/15, 2001:2::/48 (RFC 2544, 5180) */
	ADDRESS_MULTICAST,			/* 224.0.0.0/4, ff00::/8 */
	ADDRESS_BROADCAST,			/* 255.255.255.255/32 */
	ADDRESS_RESERVED,			/* 240.0.0.0/4, 192.88.99.0/24, IPv6 outside
								 * 2000::/3 not named above */
	ADDRESS_NOT_IP,				/* not AF_INET/AF_INET6, or a short sockaddr */
	ADDRESS_CLASS_COUNT
} AddressClass;

/* How the IPv4 address that decided an IPv6 address's class was embedded. */
typedef enum AddressForm
{
	ADDRESS_FORM_PLAIN = 0,		/* the address itself decided */
	ADDRESS_FORM_MAPPED,		/* ::ffff:a.b.c.d (::ffff:0:0/96) */
	ADDRESS_FORM_COMPATIBLE,	/* ::a.b.c.d (::/96), deprecated */
	ADDRESS_FORM_NAT64,			/* 64:ff9b::a.b.c.d (64:ff9b::/96, RFC 6052) */
	ADDRESS_FORM_6TO4,			/* 2002:AABB:CCDD::/48 (RFC 3056) */
	ADDRESS_FORM_TEREDO_SERVER, /* 2001:0:AABB:CCDD::/64 (RFC 4380) */
	ADDRESS_FORM_TEREDO_CLIENT	/* 2001:0:...:~a.~b.~c.~d (RFC 4380) */
} AddressForm;

typedef struct AddressVerdict
{
	AddressClass class;
	AddressForm form;
	uint8_t		ipv4[4];		/* the embedded address when form != PLAIN */
} AddressVerdict;

/* room for any reason address_permitted or address_describe writes */
#define ADDRESS_REASON_SIZE 160

/* a.b.c.d as 4 bytes in network order */
AddressClass address_classify_ipv4(const uint8_t addr[4]);

/*
 * 16 bytes in network order.  Forms that embed an IPv4 address (mapped,
 * compatible, NAT64, 6to4, Teredo) take the class of that address when it is
 * not public, and say so in *verdict.
 */
void		address_classify_ipv6(const uint8_t addr[16], AddressVerdict *verdict);

/*
 * A sockaddr_in or sockaddr_in6 of len bytes (need not be aligned).
 * Anything else, or a len too short for its family, is ADDRESS_NOT_IP.
 */
void		address_verdict(const struct sockaddr *sa, socklen_t len, AddressVerdict *verdict);
AddressClass address_classify(const struct sockaddr *sa, socklen_t len);

/* "a loopback address", "a private address (RFC 1918)", ...: static text */
const char *address_class_text(AddressClass class);

/*
 * "127.0.0.1 is a loopback address", or for an embedded address
 * "::ffff:127.0.0.1 (IPv4-mapped 127.0.0.1) is a loopback address",
 * into buf (always NUL-terminated when size > 0).
 */
void		address_describe(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/*
 * One allowed range.  IPv4 ranges are kept as their IPv4-mapped IPv6 range
 * (a.b.c.d/n as ::ffff:a.b.c.d/96+n), so 10.0.0.0/8 also allows
 * ::ffff:10.1.2.3, which is the same host reached over an IPv6 socket.
 */
typedef struct AddressRange
{
	uint8_t		net[16];		/* network address, host bits zero */
	int			prefix;			/* 0..128 in the IPv6 space */
	bool		ipv4;			/* written as IPv4 (for printing only) */
} AddressRange;

typedef struct AddressPolicy
{
	bool		allow_all;		/* --allow-private: connect anywhere */
	AddressRange *ranges;		/* --allow-cidr, malloc'd */
	size_t		nranges;
	size_t		cap;
} AddressPolicy;

/*
 * Parse "ADDRESS/PREFIX" or a bare "ADDRESS" (a /32 or /128) in numeric
 * form only (inet_pton: no names, no zone ids, no shortened IPv4).  A range
 * with bits set right of its prefix (10.1.2.3/24) is refused rather than
 * silently widened.  Returns true, or false with a message in err.
 */
bool		address_allow_parse(const char *text, AddressRange *range, char *err, size_t errsize);

/* is addr (16 bytes, IPv6 or IPv4-mapped) inside range? */
bool		address_range_contains(const AddressRange *range, const uint8_t addr[16]);

/* parse text and add it to policy; false with a message in err */
bool		address_policy_add(AddressPolicy *policy, const char *text, char *err, size_t errsize);
void		address_policy_free(AddressPolicy *policy);

/* is sa inside one of policy's ranges?  (allow_all is not consulted) */
bool		address_allowed(const AddressPolicy *policy, const struct sockaddr *sa, socklen_t len);

/*
 * May the crawler connect to sa?  Public addresses always; others only with
 * allow_all or inside an allowed range.  policy may be NULL (the default:
 * public only).  On refusal, reason gets address_describe's text.
 */
bool		address_permitted(const AddressPolicy *policy, const struct sockaddr *sa, socklen_t len,
							  char *reason, size_t reason_size);

#endif							/* PGLEARN_ADDRESS_H */
