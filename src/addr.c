/* Socket addresses: strict numeric parsing and printing. Addresses come from
 * config files and the control socket, so parsing accepts exactly
 * "IPv4:PORT" and "[IPv6]:PORT" and nothing looser (no hostnames, no
 * whitespace, no signs): a typo is an error, not a surprise. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/* Parses a decimal port, 1 to 5 digits, 0..65535, and nothing after it. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* Copies [s, e) into buf as a C string; fails if it does not fit. */
static int copy_host(char *buf, size_t len, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);

	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int addr_parse(const char *s, union braid_addr *a)
{
	char host[INET6_ADDRSTRLEN];
	const char *end, *port_s;
	uint16_t port;

	memset(a, 0, sizeof(*a));
	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		end = strchr(s + 1, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		port_s = end + 2;
		if (copy_host(host, sizeof(host), s + 1, end) < 0 ||
		    parse_port(port_s, &port) < 0 ||
		    inet_pton(AF_INET6, host, &a->in6.sin6_addr) != 1)
			goto err;
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		return 0;
	}
	end = strchr(s, ':');
	if (!end)
		return -EINVAL;
	port_s = end + 1;
	if (copy_host(host, sizeof(host), s, end) < 0 ||
	    parse_port(port_s, &port) < 0 ||
	    inet_pton(AF_INET, host, &a->in.sin_addr) != 1)
		goto err;
	a->in.sin_family = AF_INET;
	a->in.sin_port = htons(port);
	return 0;

err:
	memset(a, 0, sizeof(*a));
	return -EINVAL;
}

char *addr_format(const union braid_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	switch (a->sa.sa_family) {
	case AF_INET:
		if (!inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host)))
			break;
		snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(a->in.sin_port));
		return buf;
	case AF_INET6:
		if (!inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host)))
			break;
		snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(a->in6.sin6_port));
		return buf;
	default:
		break;
	}
	snprintf(buf, len, "(none)");
	return buf;
}

socklen_t addr_len(const union braid_addr *a)
{
	switch (a->sa.sa_family) {
	case AF_INET:
		return sizeof(a->in);
	case AF_INET6:
		return sizeof(a->in6);
	default:
		return 0;
	}
}

/* An unset address (AF_UNSPEC) equals nothing, not even another unset one:
 * "no address yet" must never match a peer. */
void addr_key(const union braid_addr *a, uint8_t k[ADDR_KEY_LEN])
{
	memset(k, 0, ADDR_KEY_LEN);
	k[0] = (uint8_t)a->sa.sa_family;
	if (a->sa.sa_family == AF_INET6) {
		memcpy(k + 2, &a->in6.sin6_port, 2);
		memcpy(k + 4, &a->in6.sin6_addr, 16);
	} else if (a->sa.sa_family == AF_INET) {
		memcpy(k + 2, &a->in.sin_port, 2);
		memcpy(k + 4, &a->in.sin_addr, 4);
	}
}

bool addr_equal(const union braid_addr *a, const union braid_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	case AF_INET6:
		return a->in6.sin6_port == b->in6.sin6_port &&
		       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
			      sizeof(a->in6.sin6_addr)) == 0;
	default:
		return false;
	}
}

int addr_from_sockaddr(union braid_addr *a, const struct sockaddr *sa, socklen_t len)
{
	sa_family_t family;

	memset(a, 0, sizeof(*a));
	if (!sa || len < (socklen_t)(offsetof(struct sockaddr, sa_family) +
				     sizeof(family)))
		return -EAFNOSUPPORT;
	/* The kernel's buffer may be a plain struct sockaddr of unknown
	 * alignment and size; copy only what len vouches for. */
	memcpy(&family, (const char *)sa + offsetof(struct sockaddr, sa_family),
	       sizeof(family));
	switch (family) {
	case AF_INET:
		if (len < (socklen_t)sizeof(a->in))
			return -EAFNOSUPPORT;
		memcpy(&a->in, sa, sizeof(a->in));
		return 0;
	case AF_INET6:
		if (len < (socklen_t)sizeof(a->in6))
			return -EAFNOSUPPORT;
		memcpy(&a->in6, sa, sizeof(a->in6));
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}
