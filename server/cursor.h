/*
 * cursor.h - opaque cursors for the change feed and the audit log:
 * positions in durable, strictly increasing sequences, sealed under the
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

/* A change-feed position: in the caller's own feed (a partner's or
 * agency's, numbered per principal) and in the shared feed (reviewers',
 * and the cases an access key lists). A referrer's cursor moves only with
 * its own feed, so no other principal's activity changes it. */
struct feed_pos {
	int64_t own;
	int64_t shared;
};

char *cursor_encode_feed(const struct keys *k, const struct feed_pos *pos);
/* RG_OK and *pos, or RG_EINVAL (a cursor of another kind included). */
int cursor_decode_feed(const struct keys *k, const char *cursor,
                       struct feed_pos *pos);

#endif
