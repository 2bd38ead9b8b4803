/*
 * listen.c - listening addresses and libmicrohttpd's log (see listen.h).
 */
#include "listen.h"
#include "log.h"

#include "../proto/rg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int listen_addr(const char *host, int port, struct sockaddr_storage *ss,
                bool *v6, bool *loopback)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*v6 = false;
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return RG_OK;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return RG_OK;
	}
	return RG_EINVAL;
}

const char *listen_error(const struct sockaddr_storage *sa, bool v6)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strerror(errno);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int rc = bind(fd, (const struct sockaddr *)sa, len);
	int err = errno;
	close(fd);
	return rc == 0 ? "the TLS set-up failed (see the lines before)" : strerror(err);
}

void listen_log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg(LOG_DEBUG, "mhd: %s", msg);
}
