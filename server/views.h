/*
 * views.h - case and referral views: the full view is built from storage
 * (decrypting only what the audience may see) and leaves through the
 * disclosure policy filter. These are the only ways case or referral data
 * reaches a response.
 */
#ifndef RG_VIEWS_H
#define RG_VIEWS_H

#include "request.h"

/* The audience a principal belongs to for case data it referred into. */
enum audience views_audience(const struct store_principal *p);

/* The audience an access key's holder is in for the cases it covers. */
enum audience views_key_audience(const struct store_access_key *key);

/* The case view for `caller` in audience `aud`, policy applied; key is
 * the access key it is seen through (its identifiers are limited to the
 * key's own), or NULL. *err is RG_ENOTFOUND when there is no such case.
 * NULL on failure. */
json_t *views_case(struct app *app, const struct policy *pol,
                   enum audience aud, const char *caller,
                   const struct store_access_key *key, const char *id,
                   int *err);

/* A case without its referrals and decisions (fields and, when granted,
 * identifiers), policy applied: review queue entries. */
json_t *views_case_brief(struct app *app, const struct policy *pol,
                         enum audience aud, const struct store_case *c,
                         int *err);

/* The fields of a case row alone (no referrals, identifiers, decisions),
 * before filtering. */
json_t *views_case_fields(const struct store_case *c);

/* The referral view, policy applied (cases filtered as case views). */
json_t *views_referral(struct app *app, const struct policy *pol,
                       enum audience aud, const char *caller,
                       const struct store_referral *r, int *err);

#endif
