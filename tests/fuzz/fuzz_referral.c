/*
 * fuzz_referral.c - libFuzzer target for proto/referral.c.
 *
 * Input: one byte that picks the submitter's role (byte % 5: none,
 * partner, agency, reviewer, legal), then the payload JSON.
 * Oracles: an accepted payload obeys the limits of referral.h (and a
 * removal order only comes from an agency); a refused one has at least
 * one error item, and the problem+json body built from them is valid
 * JSON. Accepted subjects then go through norm_subject.
 */
#include "fuzz.h"

#include <string.h>

#include <jansson.h>

#include "../../proto/normalise.h"
#include "../../proto/problem.h"
#include "../../proto/referral.h"

static struct norm_hosts hosts = {
	.n_hosts = 2, .hosts = {"twitter.com", "x.com"},
	.n_prefixes = 3, .prefixes = {"www", "mobile", "m"},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);     /* jansson's hash seed: deterministic runs */
	return 0;
}

static void check_accepted(const struct referral *r, enum rg_role role)
{
	FUZZ_CHECK(FUZZ_TERMINATED(r->jti));
	size_t jl = strlen(r->jti);
	FUZZ_CHECK(jl >= REFERRAL_JTI_MIN && jl <= REFERRAL_JTI_MAX);
	FUZZ_CHECK(r->iat >= 0);
	FUZZ_CHECK(FUZZ_TERMINATED(r->partner_ref));
	FUZZ_CHECK(r->has_partner_ref == (r->partner_ref[0] != '\0'));
	FUZZ_CHECK((unsigned)r->category <= CAT_OTHER_ILLEGAL);
	FUZZ_CHECK((unsigned)r->urgency <= URG_IMMINENT_HARM);
	FUZZ_CHECK(strcmp(referral_category_name(r->category), "") != 0);
	FUZZ_CHECK(strcmp(referral_urgency_name(r->urgency), "") != 0);
	FUZZ_CHECK(r->n_subjects >= 1 && r->n_subjects <= REFERRAL_MAX_SUBJECTS);
	FUZZ_CHECK(r->n_evidence <= REFERRAL_MAX_EVIDENCE);
	if (r->summary)
		FUZZ_CHECK(strlen(r->summary) <= REFERRAL_SUMMARY_MAX * 4);
	if (r->has_removal_order) {
		FUZZ_CHECK(role == ROLE_AGENCY);
		FUZZ_CHECK(FUZZ_TERMINATED(r->removal_order.reference) &&
			   r->removal_order.reference[0] != '\0');
		FUZZ_CHECK(FUZZ_TERMINATED(r->removal_order.legal_basis) &&
			   r->removal_order.legal_basis[0] != '\0');
		FUZZ_CHECK(r->removal_order.issued_at >= 0);
	}
	for (size_t i = 0; i < r->n_subjects; i++) {
		const struct referral_subject *s = &r->subjects[i];
		FUZZ_CHECK(FUZZ_TERMINATED(s->account_id));
		FUZZ_CHECK(FUZZ_TERMINATED(s->handle));
		FUZZ_CHECK(FUZZ_TERMINATED(s->url));
		FUZZ_CHECK(s->account_id[0] || s->handle[0] || s->url[0]);

		struct subject_ids ids;
		const char *field = NULL, *why = NULL;
		int rc = norm_subject(&hosts, s, &ids, &field, &why);
		if (rc == RG_OK) {
			FUZZ_CHECK(FUZZ_TERMINATED(ids.account_id));
			FUZZ_CHECK(FUZZ_TERMINATED(ids.handle));
			FUZZ_CHECK(ids.account_id[0] || ids.handle[0]);
		} else {
			FUZZ_CHECK(rc == RG_EINVAL || rc == RG_EBADURL);
			FUZZ_CHECK(field != NULL && why != NULL);
		}
	}
	for (size_t i = 0; i < r->n_evidence; i++) {
		const struct referral_evidence *e = &r->evidence[i];
		FUZZ_CHECK(FUZZ_TERMINATED(e->url) && e->url[0] != '\0');
		FUZZ_CHECK(FUZZ_TERMINATED(e->sha256) && strlen(e->sha256) == 64);
		FUZZ_CHECK(FUZZ_TERMINATED(e->media_type));
		FUZZ_CHECK(e->captured_at >= 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum rg_role role = (enum rg_role)(data[0] % 5);
	struct problem_items errs;
	memset(&errs, 0, sizeof errs);
	struct referral *r = NULL;

	int rc = referral_parse(data + 1, size - 1, role, &r, &errs);
	if (rc == RG_OK) {
		FUZZ_CHECK(r != NULL);
		FUZZ_CHECK(errs.n == 0 && !errs.truncated);
		check_accepted(r, role);
		referral_free(r);
		return 0;
	}
	FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ENOMEM);
	if (rc == RG_ENOMEM)
		return 0;
	FUZZ_CHECK(errs.n >= 1 && errs.n <= PROBLEM_MAX_ITEMS);
	for (size_t i = 0; i < errs.n; i++) {
		const struct problem_item *it = &errs.item[i];
		FUZZ_CHECK(FUZZ_TERMINATED(it->pointer));
		FUZZ_CHECK(FUZZ_TERMINATED(it->reason) && it->reason[0]);
		FUZZ_CHECK(it->pointer[0] == '\0' || it->pointer[0] == '/');
	}

	/* the 400 body built from the items must be JSON */
	char *body = problem_json(400, "invalid_payload", NULL, &errs);
	FUZZ_CHECK(body != NULL);
	json_error_t jerr;
	json_t *back = json_loads(body, 0, &jerr);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(json_array_size(json_object_get(back, "errors")) == errs.n);
	json_decref(back);
	free(body);
	return 0;
}
