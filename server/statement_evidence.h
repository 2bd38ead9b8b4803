/*
 * statement_evidence.h - what a statement of reasons takes from a case's
 * sealed evidence: the content types of its media and the earliest
 * capture time. Only the daemon, holding the data key, can open them.
 */
#ifndef RG_STATEMENT_EVIDENCE_H
#define RG_STATEMENT_EVIDENCE_H

#include "app.h"
#include "statements.h"

/*
 * Opens the sealed content of every referral of the case (canonical id or
 * one merged into it) and folds its evidence into *out: the content-type
 * bit of each media_type, the earliest captured_at. Nothing else of the
 * content is kept; the plaintext is wiped. RG_OK, RG_ENOTFOUND,
 * RG_ECRYPTO (a referral that does not open), RG_ENOMEM, RG_EIO.
 */
int statement_evidence_of_case(struct app *app, const char *case_id,
                               struct statement_evidence *out);

#endif
