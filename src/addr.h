/* Socket addresses as braid stores them: IPv4 or IPv6, parsed from and
 * printed as "1.2.3.4:5" and "[::1]:5". */
#ifndef BRAID_ADDR_H
#define BRAID_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

union braid_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Longest string addr_format() writes, with its NUL. */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/* Parses "IPv4:PORT" or "[IPv6]:PORT" (numeric only, port 0-65535). Returns 0
 * or -EINVAL; *a is zeroed on error. */
int addr_parse(const char *s, union braid_addr *a);
/* Writes a printable form into buf (at least ADDR_STRLEN bytes); returns buf. */
char *addr_format(const union braid_addr *a, char *buf, size_t len);
socklen_t addr_len(const union braid_addr *a);
/* An address as bytes a keyed hash or MAC can take, the same for equal
 * addresses (addr_equal): family, a zero byte, port, then the IPv4 or IPv6
 * address (IPv4 in the first 4 bytes, the rest zero). */
#define ADDR_KEY_LEN 20
void addr_key(const union braid_addr *a, uint8_t k[ADDR_KEY_LEN]);
/* Same family, address and port. */
bool addr_equal(const union braid_addr *a, const union braid_addr *b);
/* Copies a kernel-filled sockaddr of len bytes; returns -EAFNOSUPPORT for a
 * family other than AF_INET/AF_INET6 or a short length. */
int addr_from_sockaddr(union braid_addr *a, const struct sockaddr *sa, socklen_t len);

#endif
