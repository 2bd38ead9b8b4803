/*
 * problem.h - problem details (RFC 9457) with refgate's stable codes.
 * Pure: no I/O; thread-safe.
 */
#ifndef RG_PROBLEM_H
#define RG_PROBLEM_H

#include "rg.h"

/* One entry of the "errors" member of an invalid_payload problem. */
struct problem_item {
	char pointer[128];   /* JSON pointer (RFC 6901) into the payload */
	char reason[128];    /* English, no input echoed back */
};

#define PROBLEM_MAX_ITEMS 32

struct problem_items {
	size_t n;
	bool truncated;      /* more errors than PROBLEM_MAX_ITEMS */
	struct problem_item item[PROBLEM_MAX_ITEMS];
};

/* Appends an item (formats the pointer from fmt); drops it and sets
 * truncated when full. */
void problem_items_add(struct problem_items *items, const char *reason,
                       const char *pointer_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Builds the problem+json body: {"type":"urn:refgate:problem:<code>",
 * "title", "status", "code", "detail"?, "errors"?}. detail and items may
 * be NULL. Returns a malloc'd NUL-terminated string, or NULL on ENOMEM.
 */
char *problem_json(int status, const char *code, const char *detail,
                   const struct problem_items *items);

/* The fixed title of a code ("Invalid payload", ...). */
const char *problem_title(const char *code);

#endif
