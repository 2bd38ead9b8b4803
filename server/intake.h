/*
 * intake.h - a verified, validated referral on its way into the store:
 * its subjects normalised into identifier index entries (keyed hash and
 * sealed value), its content sealed under a fresh referral id, handed to
 * the writer without waiting, and its receipt (payload made inside the
 * commit, signed afterwards). The referral handler parses and answers;
 * this module owns the sealed document and the receipt.
 */
#ifndef RG_INTAKE_H
#define RG_INTAKE_H

#include "app.h"

#include "../proto/problem.h"
#include "../proto/referral.h"

struct intake;

/*
 * Prepares referral r (verified and validated) that `principal` sent as
 * the JWS jws[0..jws_len), the bytes exactly as sent, at `now`. Copies
 * what it needs: r and jws may go once this returns. RG_EBADURL when a
 * subject names no account (*items says which, *out untouched);
 * RG_ENOMEM or RG_ECRYPTO otherwise. intake_free frees *out.
 */
int intake_new(struct app *app, const char *principal,
               const struct referral *r, const uint8_t *jws, size_t jws_len,
               int64_t now, struct problem_items *items, struct intake **out);

/*
 * Hands the referral to the store's writer for the next group commit and
 * returns at once. done(ctx) is called exactly once: from the writer
 * thread once the commit is durable or failed (it must not block), or
 * from this thread before intake_submit returns when the referral could
 * not be queued. Then intake_result tells the outcome. The intake must
 * not be freed before done was called.
 */
void intake_submit(struct intake *in, void (*done)(void *ctx), void *ctx);

/*
 * The outcome, once done was called: what store_referral_submit returns
 * (RG_OK recorded, RG_EREPLAY the first answer to the same bytes,
 * RG_EQUOTA with out->over, RG_ECONFLICT, RG_EFULL, RG_EIO) and its
 * answer *out, owned by the intake.
 */
int intake_result(const struct intake *in,
                  const struct store_referral_out **out);

/*
 * The signed receipt (compact JWS, typ refgate-receipt+json, the
 * gateway's receipt key) of a recorded or replayed referral that
 * `principal` sent as jws[0..jws_len): its payload is the log's leaf as
 * stored (out->receipt) or, for a referral from before the log, the same
 * payload without log_index. malloc'd in *receipt.
 */
int intake_receipt(const struct app *app, const char *principal,
                   const uint8_t *jws, size_t jws_len,
                   const struct store_referral_out *out, char **receipt);

/* Frees an intake and all it holds. NULL is a no-op. */
void intake_free(struct intake *in);

#endif
