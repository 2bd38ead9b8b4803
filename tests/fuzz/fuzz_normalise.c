/*
 * fuzz_normalise.c - libFuzzer target for proto/normalise.c, with the
 * platform hosts twitter.com and x.com and the prefixes www, mobile, m.
 *
 * The input (up to its first NUL) goes to norm_url, norm_handle and
 * norm_account_id. For norm_subject it is split on '\n': one part is the
 * url; two are handle and url; three or more are account_id, handle, url.
 * Oracles: what comes out is canonical (normalising it again changes
 * nothing); case-folding the scheme and host, or adding a query or a
 * fragment, does not change what a URL names.
 */
#include "fuzz.h"

#include <ctype.h>
#include <string.h>

#include "../../proto/normalise.h"

static const struct norm_hosts hosts = {
	.n_hosts = 2, .hosts = {"twitter.com", "x.com"},
	.n_prefixes = 3, .prefixes = {"www", "mobile", "m"},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_handle_out(const char *h)
{
	char again[REFERRAL_HANDLE_MAX + 1];
	size_t n = strnlen(h, REFERRAL_HANDLE_MAX + 1);
	FUZZ_CHECK(n >= 1 && n <= REFERRAL_HANDLE_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((h[i] >= 'a' && h[i] <= 'z') ||
			   (h[i] >= '0' && h[i] <= '9') || h[i] == '_');
	FUZZ_CHECK(norm_handle(h, again) == RG_OK && strcmp(again, h) == 0);
}

static void check_account_out(const char *id)
{
	char again[REFERRAL_ACCOUNT_ID_MAX + 1];
	size_t n = strnlen(id, REFERRAL_ACCOUNT_ID_MAX + 1);
	FUZZ_CHECK(n >= 1 && n <= REFERRAL_ACCOUNT_ID_MAX);
	FUZZ_CHECK(strspn(id, "0123456789") == n);
	FUZZ_CHECK(id[0] != '0' || n == 1);
	FUZZ_CHECK(norm_account_id(id, again) == RG_OK &&
		   strcmp(again, id) == 0);
}

static void check_ids(const struct subject_ids *ids)
{
	FUZZ_CHECK(FUZZ_TERMINATED(ids->account_id));
	FUZZ_CHECK(FUZZ_TERMINATED(ids->handle));
	FUZZ_CHECK(ids->account_id[0] || ids->handle[0]);
	if (ids->handle[0])
		check_handle_out(ids->handle);
	if (ids->account_id[0])
		check_account_out(ids->account_id);
}

static bool same_ids(const struct subject_ids *a, const struct subject_ids *b)
{
	return strcmp(a->account_id, b->account_id) == 0 &&
	       strcmp(a->handle, b->handle) == 0;
}

/* norm_url of a variant of url must agree with the first answer. */
static void check_variant(const char *variant, int rc,
			  const struct subject_ids *ids)
{
	struct subject_ids v;
	const char *why = NULL;
	int vrc = norm_url(&hosts, variant, &v, &why);
	FUZZ_CHECK(vrc == rc);
	if (rc == RG_OK)
		FUZZ_CHECK(same_ids(&v, ids));
}

static void fuzz_url(const char *url)
{
	struct subject_ids ids;
	const char *why = NULL;
	int rc = norm_url(&hosts, url, &ids, &why);
	if (rc == RG_OK)
		check_ids(&ids);
	else
		FUZZ_CHECK(rc == RG_EBADURL && why != NULL && why[0]);

	size_t len = strlen(url);
	const char *sep = strstr(url, "://");
	if (!sep)
		return;
	char *v = malloc(len + 3);
	FUZZ_CHECK(v != NULL);

	/* scheme and host in lower case */
	memcpy(v, url, len + 1);
	size_t auth_end = (size_t)(sep - url) + 3;
	auth_end += strcspn(url + auth_end, "/?#");
	for (size_t i = 0; i < auth_end; i++)
		v[i] = (char)tolower((unsigned char)v[i]);
	check_variant(v, rc, &ids);

	/* a query or a fragment added where there is none */
	if (!strpbrk(url, "?#") && len + 2 <= REFERRAL_URL_MAX) {
		memcpy(v, url, len);
		memcpy(v + len, "?q", 3);
		check_variant(v, rc, &ids);
		memcpy(v + len, "#f", 3);
		check_variant(v, rc, &ids);
	}
	free(v);
}

static void fuzz_subject(const char *s)
{
	const char *part[3] = {"", "", ""};
	char *copy = strdup(s);
	FUZZ_CHECK(copy != NULL);
	char *nl1 = strchr(copy, '\n');
	char *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
	if (nl1)
		*nl1 = '\0';
	if (nl2)
		*nl2 = '\0';
	if (nl2) {              /* account_id \n handle \n url */
		part[0] = copy;
		part[1] = nl1 + 1;
		part[2] = nl2 + 1;
	} else if (nl1) {       /* handle \n url */
		part[1] = copy;
		part[2] = nl1 + 1;
	} else {
		part[2] = copy;
	}

	struct referral_subject subj;
	memset(&subj, 0, sizeof subj);
	snprintf(subj.account_id, sizeof subj.account_id, "%s", part[0]);
	snprintf(subj.handle, sizeof subj.handle, "%s", part[1]);
	snprintf(subj.url, sizeof subj.url, "%s", part[2]);
	free(copy);

	struct subject_ids ids;
	const char *field = NULL, *why = NULL;
	int rc = norm_subject(&hosts, &subj, &ids, &field, &why);
	if (rc != RG_OK) {
		FUZZ_CHECK(rc == RG_EINVAL || rc == RG_EBADURL);
		FUZZ_CHECK(field != NULL && why != NULL && why[0]);
		return;
	}
	check_ids(&ids);
	/* given identifiers survive, normalised */
	char want[REFERRAL_HANDLE_MAX + 1];
	if (subj.handle[0]) {
		FUZZ_CHECK(norm_handle(subj.handle, want) == RG_OK);
		FUZZ_CHECK(strcmp(ids.handle, want) == 0);
	}
	if (subj.account_id[0]) {
		FUZZ_CHECK(norm_account_id(subj.account_id, want) == RG_OK);
		FUZZ_CHECK(strcmp(ids.account_id, want) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';

	fuzz_url(s);

	char h[REFERRAL_HANDLE_MAX + 1];
	if (norm_handle(s, h) == RG_OK)
		check_handle_out(h);
	char id[REFERRAL_ACCOUNT_ID_MAX + 1];
	if (norm_account_id(s, id) == RG_OK)
		check_account_out(id);

	fuzz_subject(s);
	free(s);
	return 0;
}
