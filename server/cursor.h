/*
 * cursor.h - opaque cursors for the change feed and the audit log: a
 * position in a durable, strictly increasing sequence, so a cursor
 * survives restarts. Clients must not parse them.
 */
#ifndef RG_CURSOR_H
#define RG_CURSOR_H

#include <stdint.h>

/* A malloc'd cursor text for position seq (NULL on ENOMEM). */
char *cursor_encode(int64_t seq);
/* RG_OK and *seq, or RG_EINVAL for anything this gateway did not make. */
int cursor_decode(const char *cursor, int64_t *seq);

#endif
