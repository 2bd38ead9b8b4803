/*
 * cidr.c - CIDR allowlists (see cidr.h).
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct net {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

/* Parses one "addr/len" of n bytes. */
static bool parse_one(const char *s, size_t n, struct net *out)
{
	char buf[64];
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *slash = strchr(buf, '/');
	if (!slash || slash[1] == '\0')
		return false;
	*slash = '\0';
	char *end;
	unsigned long len = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || slash[1] == '+' || slash[1] == '-')
		return false;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		if (len > 32)
			return false;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		if (len > 128)
			return false;
	} else {
		return false;
	}
	out->prefix = (unsigned)len;
	/* host bits must be zero, so the list says what it means */
	size_t bytes = out->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < bytes; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t mask = bit0 >= out->prefix ? 0
			     : out->prefix - bit0 >= 8 ? 0xff
			     : (uint8_t)(0xff << (8 - (out->prefix - bit0)));
		if (out->addr[i] & (uint8_t)~mask)
			return false;
	}
	return true;
}

static bool net_contains(const struct net *n, int family, const uint8_t *a)
{
	if (n->family != family)
		return false;
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

/* Calls fn for each entry; false when an entry is malformed or too many. */
static bool each_entry(const char *text, bool (*fn)(const struct net *, void *),
                       void *ctx, bool *stopped)
{
	size_t count = 0;
	const char *p = text;
	*stopped = false;
	while (*p) {
		size_t n = strcspn(p, ",");
		struct net net;
		if (++count > CIDR_LIST_MAX || !parse_one(p, n, &net))
			return false;
		if (fn && fn(&net, ctx)) {
			*stopped = true;
			return true;
		}
		p += n;
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return false;
		}
	}
	return count > 0;
}

bool cidr_list_valid(const char *text)
{
	bool stopped;
	return text && each_entry(text, NULL, NULL, &stopped);
}

struct probe {
	int family;
	uint8_t addr[16];
};

static bool probe_match(const struct net *n, void *ctx)
{
	const struct probe *p = ctx;
	return net_contains(n, p->family, p->addr);
}

bool cidr_list_match(const char *text, const struct sockaddr *addr)
{
	struct probe p = {0};
	bool stopped;
	if (!text || !*text)
		return true;
	if (!addr)
		return false;
	if (addr->sa_family == AF_INET) {
		p.family = AF_INET;
		memcpy(p.addr, &((const struct sockaddr_in *)addr)->sin_addr, 4);
	} else if (addr->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(a, mapped, 12) == 0) {
			p.family = AF_INET;
			memcpy(p.addr, a + 12, 4);
		} else {
			p.family = AF_INET6;
			memcpy(p.addr, a, 16);
		}
	} else {
		return false;
	}
	return each_entry(text, probe_match, &p, &stopped) && stopped;
}
