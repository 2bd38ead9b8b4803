/*
 * cidr.h - address allowlists for access keys: "192.0.2.0/24,2001:db8::/32".
 * Pure; thread-safe.
 */
#ifndef RG_CIDR_H
#define RG_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CIDR_LIST_MAX 16

/* Whether text is a valid list of 1-16 CIDRs separated by commas
 * (IPv4 or IPv6, prefix length required and in range, host bits zero). */
bool cidr_list_valid(const char *text);

/* Whether the address matches one entry of the list. An empty list
 * matches every address; a malformed list matches none. An IPv4-mapped
 * IPv6 address is compared as IPv4. */
bool cidr_list_match(const char *text, const struct sockaddr *addr);

#endif
