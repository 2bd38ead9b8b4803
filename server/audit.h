/*
 * audit.h - the audit chain's signed heads: a thread that, every
 * audit_sign_interval seconds (and once more at shutdown), signs the
 * newest audit record's hash with the gateway key, so that an offline
 * check (refgatectl audit verify) can tell a truncated or rewritten log.
 */
#ifndef RG_AUDIT_H
#define RG_AUDIT_H

#include "app.h"

struct audit_signer;

/* Starts the signer; NULL on failure. */
struct audit_signer *audit_signer_start(struct app *app);
/* Signs the head one last time and stops. NULL is a no-op. */
void audit_signer_stop(struct audit_signer *s);

/* Signs the current head if it is newer than *last_signed. */
int audit_sign_head(struct app *app, int64_t *last_signed);

#endif
