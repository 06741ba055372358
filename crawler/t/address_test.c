/*
 * address_test.c: unit test of address.c, the classifier of the addresses
 * the crawler connects to and the --allow-cidr parser.  Addresses are data
 * here: strings are parsed with inet_pton and classified; nothing is
 * resolved or connected to.  Every refused range is tested at its first and
 * last address and at its neighbours outside; then the embedded IPv4 forms,
 * sockaddrs that are short, foreign or unaligned, the reason texts and the
 * CIDR parser's accepted and refused inputs.
 *
 * Built with ASan and UBSan by `make -C crawler unit` (which also runs it);
 * crawler/t/run.sh runs it and counts its lines.  Prints "ok N - ..." or
 * "not ok N - ..." per test and exits 1 if any failed.
 */
#include "../address.h"
#include "../../t/lib/tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* text -> sockaddr_in / sockaddr_in6; false if inet_pton refuses it */
static bool
make_sockaddr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':'))
	{
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(80);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, text, &s6->sin6_addr) == 1;
	}
	else
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *) ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(80);
		*len = sizeof(*s4);
		return inet_pton(AF_INET, text, &s4->sin_addr) == 1;
	}
}

static const char *
class_name(AddressClass c)
{
	static const char *const names[] = {
		"PUBLIC", "UNSPECIFIED", "LOOPBACK", "PRIVATE", "SHARED", "LINK_LOCAL",
		"UNIQUE_LOCAL", "SITE_LOCAL", "NAT64_LOCAL", "PROTOCOL", "DOCUMENTATION",
		"BENCHMARKING", "MULTICAST", "BROADCAST", "RESERVED", "NOT_IP"
	};

	if ((int) c >= 0 && (size_t) c < sizeof(names) / sizeof(names[0]))
		return names[c];
	return "?";
}

typedef struct Case
{
	const char *addr;
	AddressClass class;
} Case;

#define MAX_CASES 10

typedef struct Group
{
	const char *name;
	Case		cases[MAX_CASES];	/* ends at addr == NULL */
} Group;

#define P ADDRESS_PUBLIC

static const Group groups[] = {
	/* IPv4, RFC 6890 and the IANA IPv4 special-purpose registry */
	{"0.0.0.0/8 \"this network\" is unspecified",
	{{"0.0.0.0", ADDRESS_UNSPECIFIED}, {"0.255.255.255", ADDRESS_UNSPECIFIED}, {"1.0.0.0", P}}},
	{"10.0.0.0/8 is private",
	{{"10.0.0.0", ADDRESS_PRIVATE}, {"10.255.255.255", ADDRESS_PRIVATE}, {"9.255.255.255", P}, {"11.0.0.0", P}}},
	{"100.64.0.0/10 is carrier-grade NAT",
	{{"100.64.0.0", ADDRESS_SHARED}, {"100.127.255.255", ADDRESS_SHARED}, {"100.63.255.255", P}, {"100.128.0.0", P}}},
	{"127.0.0.0/8 is loopback",
	{{"127.0.0.0", ADDRESS_LOOPBACK}, {"127.0.0.1", ADDRESS_LOOPBACK}, {"127.0.0.2", ADDRESS_LOOPBACK},
	{"127.255.255.255", ADDRESS_LOOPBACK}, {"126.255.255.255", P}, {"128.0.0.0", P}}},
	{"169.254.0.0/16 is link-local (cloud metadata 169.254.169.254 too)",
	{{"169.254.0.0", ADDRESS_LINK_LOCAL}, {"169.254.169.254", ADDRESS_LINK_LOCAL}, {"169.254.255.255", ADDRESS_LINK_LOCAL},
	{"169.253.255.255", P}, {"169.255.0.0", P}}},
	{"172.16.0.0/12 is private",
	{{"172.16.0.0", ADDRESS_PRIVATE}, {"172.31.255.255", ADDRESS_PRIVATE}, {"172.15.255.255", P}, {"172.32.0.0", P}}},
	{"192.0.0.0/24 is IETF protocol assignments",
	{{"192.0.0.0", ADDRESS_PROTOCOL}, {"192.0.0.9", ADDRESS_PROTOCOL}, {"192.0.0.255", ADDRESS_PROTOCOL},
	{"191.255.255.255", P}, {"192.0.1.0", P}}},
	{"192.0.2.0/24 TEST-NET-1 is documentation",
	{{"192.0.2.0", ADDRESS_DOCUMENTATION}, {"192.0.2.255", ADDRESS_DOCUMENTATION}, {"192.0.1.255", P}, {"192.0.3.0", P}}},
	{"192.88.99.0/24 (deprecated 6to4 relay anycast) is reserved",
	{{"192.88.99.0", ADDRESS_RESERVED}, {"192.88.99.255", ADDRESS_RESERVED}, {"192.88.98.255", P}, {"192.88.100.0", P}}},
	{"192.168.0.0/16 is private",
	{{"192.168.0.0", ADDRESS_PRIVATE}, {"192.168.255.255", ADDRESS_PRIVATE}, {"192.167.255.255", P}, {"192.169.0.0", P}}},
	{"198.18.0.0/15 is benchmarking",
	{{"198.18.0.0", ADDRESS_BENCHMARKING}, {"198.19.255.255", ADDRESS_BENCHMARKING}, {"198.17.255.255", P}, {"198.20.0.0", P}}},
	{"198.51.100.0/24 TEST-NET-2 is documentation",
	{{"198.51.100.0", ADDRESS_DOCUMENTATION}, {"198.51.100.255", ADDRESS_DOCUMENTATION}, {"198.51.99.255", P}, {"198.51.101.0", P}}},
	{"203.0.113.0/24 TEST-NET-3 is documentation",
	{{"203.0.113.0", ADDRESS_DOCUMENTATION}, {"203.0.113.255", ADDRESS_DOCUMENTATION}, {"203.0.112.255", P}, {"203.0.114.0", P}}},
	{"224.0.0.0/4 is multicast",
	{{"224.0.0.0", ADDRESS_MULTICAST}, {"239.255.255.255", ADDRESS_MULTICAST}, {"223.255.255.255", P}}},
	{"240.0.0.0/4 is reserved, 255.255.255.255 is the broadcast address",
	{{"240.0.0.0", ADDRESS_RESERVED}, {"255.255.255.254", ADDRESS_RESERVED}, {"255.255.255.255", ADDRESS_BROADCAST}}},
	{"public IPv4, AS112 and AMT anycast included",
	{{"1.1.1.1", P}, {"8.8.8.8", P}, {"93.184.216.34", P}, {"192.31.196.1", P}, {"192.52.193.1", P},
	{"192.175.48.1", P}, {"223.255.255.254", P}}},

	/* IPv6 */
	{"::/128 is unspecified, ::1/128 loopback",
	{{"::", ADDRESS_UNSPECIFIED}, {"::1", ADDRESS_LOOPBACK}}},
	{"IPv4-mapped ::ffff:0:0/96 classifies its IPv4",
	{{"::ffff:127.0.0.1", ADDRESS_LOOPBACK}, {"::ffff:10.0.0.1", ADDRESS_PRIVATE},
	{"::ffff:169.254.169.254", ADDRESS_LINK_LOCAL}, {"::ffff:0.0.0.0", ADDRESS_UNSPECIFIED},
	{"::ffff:255.255.255.255", ADDRESS_BROADCAST}, {"::ffff:100.64.0.1", ADDRESS_SHARED}, {"::ffff:8.8.8.8", P},
	{"::fffe:127.0.0.1", ADDRESS_RESERVED}}},
	{"IPv4-compatible ::/96 classifies its IPv4",
	{{"::2", ADDRESS_UNSPECIFIED}, {"::127.0.0.1", ADDRESS_LOOPBACK}, {"::10.1.2.3", ADDRESS_PRIVATE},
	{"::192.168.1.1", ADDRESS_PRIVATE}, {"::224.0.0.1", ADDRESS_MULTICAST}, {"::8.8.8.8", P},
	{"::1:0:0", ADDRESS_RESERVED}}},
	{"NAT64 64:ff9b::/96 classifies its IPv4",
	{{"64:ff9b::127.0.0.1", ADDRESS_LOOPBACK}, {"64:ff9b::10.0.0.1", ADDRESS_PRIVATE},
	{"64:ff9b::169.254.169.254", ADDRESS_LINK_LOCAL}, {"64:ff9b::8.8.8.8", P},
	{"64:ff9b::1:0:0:0", ADDRESS_RESERVED}, {"64:ff9b:0:ffff::", ADDRESS_RESERVED}}},
	{"local-use NAT64 64:ff9b:1::/48 is refused whatever it embeds",
	{{"64:ff9b:1::", ADDRESS_NAT64_LOCAL}, {"64:ff9b:1::8.8.8.8", ADDRESS_NAT64_LOCAL},
	{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ADDRESS_NAT64_LOCAL}, {"64:ff9b:2::", ADDRESS_RESERVED},
	{"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", ADDRESS_RESERVED}}},
	{"fe80::/10 is link-local",
	{{"fe80::", ADDRESS_LINK_LOCAL}, {"fe80::1", ADDRESS_LINK_LOCAL},
	{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_LINK_LOCAL},
	{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_RESERVED}, {"fec0::", ADDRESS_SITE_LOCAL}}},
	{"fec0::/10 is site-local",
	{{"fec0::", ADDRESS_SITE_LOCAL}, {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_SITE_LOCAL},
	{"ff00::", ADDRESS_MULTICAST}}},
	{"fc00::/7 is unique local",
	{{"fc00::", ADDRESS_UNIQUE_LOCAL}, {"fd00::1", ADDRESS_UNIQUE_LOCAL},
	{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_UNIQUE_LOCAL},
	{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_RESERVED}, {"fe00::", ADDRESS_RESERVED}}},
	{"ff00::/8 is multicast",
	{{"ff00::", ADDRESS_MULTICAST}, {"ff02::1", ADDRESS_MULTICAST},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_MULTICAST}}},
	{"outside 2000::/3 is reserved (100::/64 discard, 5f00::/16 SRv6)",
	{{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_RESERVED}, {"4000::", ADDRESS_RESERVED},
	{"100::", ADDRESS_RESERVED}, {"5f00::1", ADDRESS_RESERVED}, {"::1:2:3:4:5", ADDRESS_RESERVED},
	{"2000::", P}, {"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", P}}},
	{"2001:db8::/32 is documentation",
	{{"2001:db8::", ADDRESS_DOCUMENTATION}, {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_DOCUMENTATION},
	{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", P}, {"2001:db9::", P}}},
	{"3fff::/20 is documentation (RFC 9637)",
	{{"3fff::", ADDRESS_DOCUMENTATION}, {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_DOCUMENTATION},
	{"3fff:1000::", P}, {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", P}}},
	{"2001::/23 is IETF protocol assignments, 2001:2::/48 benchmarking",
	{{"2001:1::1", ADDRESS_PROTOCOL}, {"2001:10::1", ADDRESS_PROTOCOL},
	{"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRESS_PROTOCOL}, {"2001:200::", P},
	{"2001:2::", ADDRESS_BENCHMARKING}, {"2001:2:0:ffff:ffff:ffff:ffff:ffff", ADDRESS_BENCHMARKING},
	{"2001:2:1::", ADDRESS_PROTOCOL}, {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", P}}},
	{"Teredo 2001::/32 classifies its server and (inverted) client IPv4",
	{{"2001:0:7f00:1::", ADDRESS_LOOPBACK}, {"2001:0:a00:1:0:0:f7f7:f7f7", ADDRESS_PRIVATE},
	{"2001:0:808:808:0:0:f5ff:fffe", ADDRESS_PRIVATE}, {"2001:0:4136:e378:8000:63bf:3fff:fdd2", ADDRESS_DOCUMENTATION},
	{"2001:0:808:808::", ADDRESS_BROADCAST}, {"2001:0:808:808:0:0:f7f7:f7f7", P}}},
	{"6to4 2002::/16 classifies its IPv4",
	{{"2002::", ADDRESS_UNSPECIFIED}, {"2002:7f00:1::", ADDRESS_LOOPBACK}, {"2002:a00:1::1", ADDRESS_PRIVATE},
	{"2002:a9fe:a9fe::", ADDRESS_LINK_LOCAL}, {"2002:c000:201::", ADDRESS_DOCUMENTATION},
	{"2002:808:808::1", P}, {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", P}, {"2003::", P}}},
	{"public IPv6",
	{{"2606:4700:4700::1111", P}, {"2001:4860:4860::8888", P}, {"2a00:1450:4001::1", P},
	{"2620:4f:8000::", P}}},
};

static void
test_groups(void)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
	{
		bool		ok = true;

		for (int i = 0; i < MAX_CASES && groups[g].cases[i].addr; i++)
		{
			const Case *c = &groups[g].cases[i];
			struct sockaddr_storage ss;
			socklen_t	len;
			AddressClass got;

			if (!make_sockaddr(c->addr, &ss, &len))
			{
				printf("# %s: not an address (test bug)\n", c->addr);
				ok = false;
				continue;
			}
			got = address_classify((struct sockaddr *) &ss, len);
			if (got != c->class)
			{
				printf("# %s: got %s, expected %s\n", c->addr, class_name(got), class_name(c->class));
				ok = false;
			}
		}
		okf(ok, "%s", groups[g].name);
	}
}

/* the embedded forms say which IPv4 address decided, and how */
static void
test_forms(void)
{
	static const struct
	{
		const char *addr;
		AddressForm form;
		const char *ipv4;
	}			forms[] = {
		{"::ffff:127.0.0.1", ADDRESS_FORM_MAPPED, "127.0.0.1"},
		{"::10.1.2.3", ADDRESS_FORM_COMPATIBLE, "10.1.2.3"},
		{"64:ff9b::a9fe:a9fe", ADDRESS_FORM_NAT64, "169.254.169.254"},
		{"2002:c0a8:101::", ADDRESS_FORM_6TO4, "192.168.1.1"},
		{"2001:0:7f00:1:0:0:f7f7:f7f7", ADDRESS_FORM_TEREDO_SERVER, "127.0.0.1"},
		{"2001:0:808:808:0:0:80ff:fffe", ADDRESS_FORM_TEREDO_CLIENT, "127.0.0.1"},
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
	{
		uint8_t		a[16];
		char		v4[INET_ADDRSTRLEN];
		AddressVerdict v;

		if (inet_pton(AF_INET6, forms[i].addr, a) != 1)
		{
			okf(false, "%s parses (test bug)", forms[i].addr);
			continue;
		}
		address_classify_ipv6(a, &v);
		inet_ntop(AF_INET, v.ipv4, v4, sizeof(v4));
		okf(v.form == forms[i].form && strcmp(v4, forms[i].ipv4) == 0,
			   "%s: the verdict names the embedded %s (form %d, got %s form %d)",
			   forms[i].addr, forms[i].ipv4, (int) forms[i].form, v4, (int) v.form);
	}

	/* every IPv4 address's mapped form classifies as the address: a sample */
	{
		bool		ok = true;

		for (uint64_t x = 0; x <= 0xFFFFFFFFu; x += 65521)
		{
			uint8_t		v4[4] = {x >> 24, (x >> 16) & 0xFF, (x >> 8) & 0xFF, x & 0xFF};
			uint8_t		v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
			AddressVerdict v;

			memcpy(v6 + 12, v4, 4);
			address_classify_ipv6(v6, &v);
			if (v.class != address_classify_ipv4(v4))
				ok = false;
		}
		okf(ok, "::ffff:a.b.c.d classifies like a.b.c.d (every 65521st IPv4 address)");
	}
}

static void
test_sockaddrs(void)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	struct sockaddr_un su;
	char		unaligned[sizeof(struct sockaddr_in6) + 1];

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	okf(address_classify((struct sockaddr *) &s4, sizeof(s4) - 1) == ADDRESS_NOT_IP,
		   "a sockaddr_in one byte short is not an IP address");
	okf(address_classify((struct sockaddr *) &s4, 0) == ADDRESS_NOT_IP,
		   "a sockaddr of length 0 is not an IP address");
	okf(address_classify(NULL, sizeof(s4)) == ADDRESS_NOT_IP, "NULL is not an IP address");

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	okf(address_classify((struct sockaddr *) &s6, sizeof(struct sockaddr_in)) == ADDRESS_NOT_IP,
		   "a sockaddr_in6 cut to sockaddr_in's length is not an IP address");

	memset(unaligned, 0, sizeof(unaligned));
	memcpy(unaligned + 1, &s6, sizeof(s6));
	okf(address_classify((struct sockaddr *) (unaligned + 1), sizeof(s6)) == ADDRESS_LOOPBACK,
		   "an unaligned sockaddr_in6 of ::1 is loopback");

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, "/tmp/x");
	okf(address_classify((struct sockaddr *) &su, sizeof(su)) == ADDRESS_NOT_IP,
		   "an AF_UNIX sockaddr is not an IP address");
	okf(!address_permitted(NULL, (struct sockaddr *) &su, sizeof(su), NULL, 0),
		   "an AF_UNIX sockaddr is not permitted by default (and a NULL reason buffer of size 0 is fine)");
}

static void
test_describe(void)
{
	static const struct
	{
		const char *addr;
		const char *text;
	}			texts[] = {
		{"127.0.0.1", "127.0.0.1 is a loopback address"},
		{"169.254.169.254", "169.254.169.254 is a link-local address"},
		{"10.1.2.3", "10.1.2.3 is a private address"},
		{"::1", "::1 is a loopback address"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1 (IPv4-mapped 127.0.0.1) is a loopback address"},
		{"64:ff9b::a00:1", "64:ff9b::a00:1 (NAT64 for 10.0.0.1) is a private address"},
		{"2002:a9fe:a9fe::", "2002:a9fe:a9fe:: (6to4 for 169.254.169.254) is a link-local address"},
		{"2001:db8::1", "2001:db8::1 is a documentation address"},
		{"100.64.0.1", "100.64.0.1 is a carrier-grade NAT (shared) address"},
		{"8.8.8.8", "8.8.8.8 is a public address"},
	};
	char		buf[ADDRESS_REASON_SIZE];
	struct sockaddr_storage ss;
	socklen_t	len;
	bool		distinct = true;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
	{
		make_sockaddr(texts[i].addr, &ss, &len);
		address_describe((struct sockaddr *) &ss, len, buf, sizeof(buf));
		okf(strcmp(buf, texts[i].text) == 0, "describe %s: \"%s\"", texts[i].addr, buf);
	}

	make_sockaddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &ss, &len);
	address_describe((struct sockaddr *) &ss, len, buf, sizeof(buf));
	okf(strlen(buf) < sizeof(buf) - 1, "the longest IPv6 text fits ADDRESS_REASON_SIZE (\"%s\")", buf);
	make_sockaddr("::ffff:255.255.255.255", &ss, &len);
	address_describe((struct sockaddr *) &ss, 8, buf, sizeof(buf));
	okf(strcmp(buf, "the address is not an IP address") == 0, "describe a short sockaddr: \"%s\"", buf);
	make_sockaddr("127.0.0.1", &ss, &len);
	memset(buf, 'x', sizeof(buf));
	address_describe((struct sockaddr *) &ss, len, buf, 8);
	okf(buf[7] == '\0' && strlen(buf) == 7 && buf[8] == 'x', "a short buffer is cut and NUL-terminated");

	for (int a = 0; a < ADDRESS_CLASS_COUNT; a++)
		for (int b = a + 1; b < ADDRESS_CLASS_COUNT; b++)
			if (strcmp(address_class_text((AddressClass) a), address_class_text((AddressClass) b)) == 0)
				distinct = false;
	okf(distinct && strcmp(address_class_text((AddressClass) 999), "not an IP address") == 0,
		   "every class has its own text; an unknown value reads \"not an IP address\"");
}

/* is text inside the parsed range? */
static bool
contains(const AddressRange *r, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t	len;
	AddressPolicy p = {false, (AddressRange *) r, 1, 1};

	if (!make_sockaddr(text, &ss, &len))
	{
		printf("# %s: not an address (test bug)\n", text);
		return false;
	}
	return address_allowed(&p, (struct sockaddr *) &ss, len);
}

static void
test_cidr(void)
{
	static const struct
	{
		const char *cidr;
		const char *inside[4];
		const char *outside[4];
	}			good[] = {
		{"10.1.2.0/24", {"10.1.2.0", "10.1.2.255", "::ffff:10.1.2.7"}, {"10.1.1.255", "10.1.3.0", "::10.1.2.7"}},
		{"127.0.0.1/32", {"127.0.0.1", "::ffff:127.0.0.1"}, {"127.0.0.2", "127.0.0.0", "::1"}},
		{"127.0.0.1", {"127.0.0.1"}, {"127.0.0.2"}},
		{"::1/128", {"::1"}, {"::2", "127.0.0.1", "::"}},
		{"::1", {"::1"}, {"::"}},
		{"fd00::/8", {"fd00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {"fc00::", "fe00::"}},
		{"0.0.0.0/0", {"0.0.0.0", "255.255.255.255", "::ffff:1.2.3.4"}, {"::1", "2001:db8::1"}},
		{"::/0", {"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "10.0.0.1"}, {NULL}},
		{"172.16.0.0/12", {"172.16.0.0", "172.31.255.255"}, {"172.15.255.255", "172.32.0.0"}},
		{"192.168.1.128/25", {"192.168.1.128", "192.168.1.255"}, {"192.168.1.127", "192.168.2.0"}},
		{"::ffff:127.0.0.0/104", {"127.0.0.1", "127.255.255.255"}, {"128.0.0.0"}},
		{"fe80::/10", {"fe80::1", "febf::1"}, {"fec0::1"}},
	};
	static const struct
	{
		const char *cidr;
		const char *message;	/* a fragment of the error */
	}			bad[] = {
		{"", "empty"},
		{"/24", "not an IP address"},
		{"10.1.2.0/", "must be a number"},
		{"10.1.2.0/33", "at most 32"},
		{"::/129", "at most 128"},
		{"10.1.2.3/24", "bits set right of its prefix"},
		{"10.1.2.0/024", "must be a number"},
		{"10.1.2.0/+24", "must be a number"},
		{"10.1.2.0/ 24", "must be a number"},
		{"10.1.2.0/24 ", "must be a number"},
		{"10.1.2.0 /24", "not an IP address"},
		{"10.1.2/24", "not an IP address"},
		{"010.1.2.0/24", "not an IP address"},
		{"0x0a.0.0.0/8", "not an IP address"},
		{"256.0.0.0/8", "not an IP address"},
		{"1.2.3.4.5", "not an IP address"},
		{"localhost", "not an IP address"},
		{"fe80::1%eth0/64", "not an IP address"},
		{"[::1]/128", "not an IP address"},
		{"10.1.2.0/24/8", "must be a number"},
		{"10.0.0.0/8x", "must be a number"},
		{"10.0.0.0/-8", "must be a number"},
		{"fd00::1/8", "bits set right of its prefix"},
		{"10.0.0.0/1000", "must be a number"},
		{"1:2:3:4:5:6:7:8:9/64", "not an IP address"},
	};
	char		err[256];
	AddressRange r;
	AddressPolicy policy;
	bool		ok;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		ok = address_allow_parse(good[i].cidr, &r, err, sizeof(err));
		if (!ok)
			printf("# %s: %s\n", good[i].cidr, err);
		for (int k = 0; ok && k < 4 && good[i].inside[k]; k++)
			if (!contains(&r, good[i].inside[k]))
			{
				printf("# %s should contain %s\n", good[i].cidr, good[i].inside[k]);
				ok = false;
			}
		for (int k = 0; ok && k < 4 && good[i].outside[k]; k++)
			if (contains(&r, good[i].outside[k]))
			{
				printf("# %s should not contain %s\n", good[i].cidr, good[i].outside[k]);
				ok = false;
			}
		okf(ok, "--allow-cidr %s: parsed; its edges inside, its neighbours outside", good[i].cidr);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		err[0] = '\0';
		ok = !address_allow_parse(bad[i].cidr, &r, err, sizeof(err));
		okf(ok && strstr(err, bad[i].message) != NULL,
			   "--allow-cidr \"%s\" refused: %s", bad[i].cidr, err);
	}
	{
		char		longtext[5000];

		memset(longtext, '1', sizeof(longtext) - 1);
		longtext[sizeof(longtext) - 1] = '\0';
		ok = !address_allow_parse(longtext, &r, err, sizeof(err));
		okf(ok && strlen(err) < 200, "a 5000-character range is refused with a short message");
		ok = !address_allow_parse(NULL, &r, err, sizeof(err));
		okf(ok, "NULL is refused");
		ok = !address_allow_parse("10.0.0.1/33", &r, NULL, 0);
		okf(ok, "no error buffer is fine");
	}

	/* a policy of many ranges; permitted() and its reason */
	memset(&policy, 0, sizeof(policy));
	ok = true;
	for (int i = 0; i < 100; i++)
	{
		char		cidr[32];

		snprintf(cidr, sizeof(cidr), "10.%d.0.0/16", i);
		if (!address_policy_add(&policy, cidr, err, sizeof(err)))
			ok = false;
	}
	ok = ok && address_policy_add(&policy, "::1/128", err, sizeof(err));
	ok = ok && !address_policy_add(&policy, "nonsense", err, sizeof(err)) && policy.nranges == 101;
	{
		struct sockaddr_storage ss;
		socklen_t	len;
		char		reason[ADDRESS_REASON_SIZE];

		make_sockaddr("10.99.1.1", &ss, &len);
		ok = ok && address_permitted(&policy, (struct sockaddr *) &ss, len, reason, sizeof(reason));
		make_sockaddr("::1", &ss, &len);
		ok = ok && address_permitted(&policy, (struct sockaddr *) &ss, len, reason, sizeof(reason));
		make_sockaddr("10.100.1.1", &ss, &len);
		ok = ok && !address_permitted(&policy, (struct sockaddr *) &ss, len, reason, sizeof(reason)) &&
			strcmp(reason, "10.100.1.1 is a private address") == 0;
		make_sockaddr("8.8.8.8", &ss, &len);
		ok = ok && address_permitted(&policy, (struct sockaddr *) &ss, len, reason, sizeof(reason));
		okf(ok, "a policy of 101 ranges: inside allowed, outside refused with its reason, public allowed");

		make_sockaddr("127.0.0.1", &ss, &len);
		ok = !address_permitted(NULL, (struct sockaddr *) &ss, len, reason, sizeof(reason)) &&
			strcmp(reason, "127.0.0.1 is a loopback address") == 0;
		okf(ok, "the default policy (NULL) refuses 127.0.0.1: \"%s\"", reason);
		policy.allow_all = true;
		make_sockaddr("169.254.169.254", &ss, &len);
		ok = address_permitted(&policy, (struct sockaddr *) &ss, len, reason, sizeof(reason));
		okf(ok, "allow_all (--allow-private) permits 169.254.169.254");
	}
	address_policy_free(&policy);
	okf(policy.ranges == NULL && policy.nranges == 0 && !policy.allow_all, "address_policy_free resets the policy");
}

int
main(void)
{
	test_groups();
	test_forms();
	test_sockaddrs();
	test_describe();
	test_cidr();
	return tap_finish();
}
