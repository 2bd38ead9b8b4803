/*
 * cursor.h - opaque cursors for the change feed and the audit log: a
 * position in a durable, strictly increasing sequence, sealed under the
 * gateway's data key, so a cursor survives restarts, reveals nothing (not
 * even how busy the gateway is) and cannot be forged or edited.
 */
#ifndef RG_CURSOR_H
#define RG_CURSOR_H

#include "keys.h"

#include <stdint.h>

/* A malloc'd cursor text for position seq (NULL on ENOMEM). */
char *cursor_encode(const struct keys *k, int64_t seq);
/* RG_OK and *seq, or RG_EINVAL for anything this gateway did not make. */
int cursor_decode(const struct keys *k, const char *cursor, int64_t *seq);

#endif
