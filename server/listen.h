/*
 * listen.h - what the listeners (http.c, ops.c) share: the listening
 * address from the configuration, why binding it failed, and
 * libmicrohttpd's own log lines.
 */
#ifndef RG_LISTEN_H
#define RG_LISTEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/socket.h>

/* A listening address from "host" (IPv4 or IPv6 literal) and port.
 * *v6 tells which; *loopback whether it is 127.0.0.0/8 or ::1.
 * RG_EINVAL when host is not an IP address. */
int listen_addr(const char *host, int port, struct sockaddr_storage *ss,
                bool *v6, bool *loopback);

/* Why the address sa cannot be listened on, as the kernel says it (e.g.
 * "Address already in use"), found by binding it once more: MHD's own
 * failure does not say. A static string. */
const char *listen_error(const struct sockaddr_storage *sa, bool v6);

/* libmicrohttpd's log callback (MHD_OPTION_EXTERNAL_LOGGER): one debug
 * line per message. */
void listen_log_mhd(void *cls, const char *fmt, va_list ap);

#endif
