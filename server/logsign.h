/*
 * logsign.h - the transparency log's checkpoints: signing one when the
 * tree has grown past the latest (on a GET of the checkpoint, and from a
 * thread every LOGSIGN_INTERVAL seconds, so that a checkpoint is never
 * more than that behind the tree), always through the store's writer
 * (store_log_checkpoint_sign), which never signs two inconsistent ones.
 */
#ifndef RG_LOGSIGN_H
#define RG_LOGSIGN_H

#include "app.h"

#define LOGSIGN_INTERVAL 5      /* seconds; the contract allows 10 */

/* The latest checkpoint, signing a new one first when the committed tree
 * has grown past it (or none exists). Thread-safe. */
int logsign_current(struct app *app, int64_t now, struct store_checkpoint *cp);

struct logsign;
/* Starts the periodic signer; NULL on failure. */
struct logsign *logsign_start(struct app *app);
/* Stops it (signing once more if the tree grew). NULL is a no-op. */
void logsign_stop(struct logsign *s);

#endif
