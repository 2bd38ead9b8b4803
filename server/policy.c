/*
 * policy.c - the disclosure policy: parsing, checking and the one filter
 * every case and referral view goes through (see policy.h).
 */
#include "policy.h"
#include "../proto/rg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_BYTES (1024 * 1024)

enum kind { KIND_CASE, KIND_REFERRAL, KIND_OWN, KIND_COUNT };

static const char *const audience_names[AUD_COUNT] = {
	[AUD_REFERRER] = "referrer",
	[AUD_STATUS_KEY] = "status_key",
	[AUD_DISCLOSURE_KEY] = "disclosure_key",
	[AUD_REVIEWER] = "reviewer",
	[AUD_LEGAL] = "legal",
};

static const char *const kind_names[KIND_COUNT] = {
	[KIND_CASE] = "case",
	[KIND_REFERRAL] = "referral",
	[KIND_OWN] = "own_referrals",
};

/* Every field a view can carry, per kind; NULL-terminated. */
static const char *const case_fields[] = {
	"case_id", "status", "action", "opened_at", "updated_at",
	"decided_at", "deadline_at", "urgency", "reopen_count",
	"referral_count", "principal_count", "account_id", "handle",
	"identifiers", "referrals", "decisions", "new_case", "claimed_by",
	"claim_expires_at", "notice_withheld_until", NULL
};
static const char *const referral_fields[] = {
	"referral_id", "partner_ref", "received_at", "category", "urgency",
	"principal", "subjects", "evidence", "summary", "cases", NULL
};

/*
 * The ceiling no policy file can lift (contract section 4): never sent to
 * a partner or agency are other principals' referrals, reviewer identity
 * or notes, counts of other reporters, or anything else that tells
 * whether someone else referred the account: how many referrals a case
 * has, how often it reopened, the highest urgency anyone gave it, whether
 * the caller's referral opened it (new_case). Account identifiers leave
 * only through a disclosure key (audited) or to reviewers.
 */
static const char *const never_to_outsiders[] = {
	"referrals", "decisions", "principal_count", "referral_count",
	"reopen_count", "urgency", "new_case", "claimed_by",
	"claim_expires_at", "notice_withheld_until", NULL
};
static const char *const identifiers_only_disclosed[] = {
	"account_id", "handle", "identifiers", NULL
};

static bool in_list(const char *const *list, const char *f)
{
	for (; *list; list++)
		if (strcmp(*list, f) == 0)
			return true;
	return false;
}

/* Why field f of kind k may never be granted to audience a, or NULL. */
static const char *ceiling(int a, int k, const char *f)
{
	bool outsider = a == AUD_REFERRER || a == AUD_STATUS_KEY ||
			a == AUD_DISCLOSURE_KEY;
	if (!outsider || k != KIND_CASE)
		return NULL;
	if (strcmp(f, "*") == 0)
		return "\"*\" may not be granted to a partner or agency audience";
	if (in_list(never_to_outsiders, f))
		return "may never be sent to a partner or agency";
	if (a != AUD_DISCLOSURE_KEY && in_list(identifiers_only_disclosed, f))
		return "account identifiers leave only through a disclosure key";
	return NULL;
}

struct grant {
	bool all;
	size_t n;
	char **fields;
};

struct policy {
	struct grant g[AUD_COUNT][KIND_COUNT];
};

static bool known_field(enum kind k, const char *f)
{
	const char *const *list = k == KIND_CASE ? case_fields : referral_fields;
	for (; *list; list++)
		if (strcmp(*list, f) == 0)
			return true;
	return false;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (int a = 0; a < AUD_COUNT; a++)
		for (int k = 0; k < KIND_COUNT; k++) {
			for (size_t i = 0; i < p->g[a][k].n; i++)
				free(p->g[a][k].fields[i]);
			free(p->g[a][k].fields);
		}
	free(p);
}

/* Fills one grant from a JSON array of field names. */
static bool parse_grant(struct grant *g, int a, enum kind k, json_t *arr,
                        const char *where, char *err, size_t errlen)
{
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: must be an array of field names", where);
		return false;
	}
	g->fields = calloc(json_array_size(arr) + 1, sizeof *g->fields);
	if (!g->fields) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *f = json_string_value(v);
		if (!f) {
			snprintf(err, errlen, "%s/%zu: must be a string", where, i);
			return false;
		}
		const char *why = ceiling(a, (int)k, f);
		if (why) {
			snprintf(err, errlen, "%s/%zu: \"%.32s\" %s", where, i, f, why);
			return false;
		}
		if (strcmp(f, "*") == 0) {
			g->all = true;
			continue;
		}
		if (!known_field(k, f)) {
			snprintf(err, errlen, "%s/%zu: unknown field \"%.64s\"",
				 where, i, f);
			return false;
		}
		if (!(g->fields[g->n++] = strdup(f))) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
	}
	return true;
}

static int audience_index(const char *name)
{
	for (int a = 0; a < AUD_COUNT; a++)
		if (strcmp(name, audience_names[a]) == 0)
			return a;
	return -1;
}

static int kind_index(const char *name)
{
	for (int k = 0; k < KIND_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

struct policy *policy_parse(const char *text, size_t len, char *err,
                            size_t errlen)
{
	json_error_t jerr;
	struct policy *p = NULL;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return NULL;
	}
	json_t *auds = json_object_get(root, "audiences");
	if (!json_is_object(root) ||
	    json_integer_value(json_object_get(root, "version")) != 1 ||
	    json_object_size(root) != 2 || !json_is_object(auds)) {
		snprintf(err, errlen, "/: expected {\"version\": 1, \"audiences\": {...}}");
		goto fail;
	}
	if (!(p = calloc(1, sizeof *p))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	const char *aname, *kname;
	json_t *aud, *arr;
	json_object_foreach(auds, aname, aud) {
		int a = audience_index(aname);
		if (a < 0 || !json_is_object(aud)) {
			snprintf(err, errlen, "/audiences/%.32s: unknown audience or not an object",
				 aname);
			goto fail;
		}
		json_object_foreach(aud, kname, arr) {
			int k = kind_index(kname);
			char where[128];
			snprintf(where, sizeof where, "/audiences/%s/%.32s",
				 aname, kname);
			if (k < 0) {
				snprintf(err, errlen, "%s: unknown kind (case, referral, own_referrals)",
					 where);
				goto fail;
			}
			if (!parse_grant(&p->g[a][k], a, (enum kind)k, arr, where,
					 err, errlen))
				goto fail;
		}
	}
	json_decref(root);
	return p;
fail:
	policy_free(p);
	json_decref(root);
	return NULL;
}

struct policy *policy_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	char *buf = malloc(POLICY_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, POLICY_MAX_BYTES + 1, f) : 0;
	fclose(f);
	struct policy *p = NULL;
	if (!buf)
		snprintf(err, errlen, "out of memory");
	else if (n > POLICY_MAX_BYTES)
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
	else
		p = policy_parse(buf, n, err, errlen);
	free(buf);
	return p;
}

static bool grant_has(const struct grant *g, const char *field)
{
	if (g->all)
		return true;
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->fields[i], field) == 0)
			return true;
	return false;
}

bool policy_grants(const struct policy *p, enum audience aud,
                   const char *kind, const char *field)
{
	int k = kind_index(kind);
	if (!p || aud >= AUD_COUNT || k < 0)
		return false;
	return grant_has(&p->g[aud][k], field);
}

bool policy_grants_any(const struct policy *p, enum audience aud,
                       const char *kind)
{
	int k = kind_index(kind);
	if (!p || aud >= AUD_COUNT || k < 0)
		return false;
	return p->g[aud][k].all || p->g[aud][k].n > 0;
}

/* Deletes every member of obj that g does not grant, except `keep`. */
static void keep_granted(const struct grant *g, json_t *obj, const char *keep)
{
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(obj, tmp, key, v) {
		if (!grant_has(g, key) && !(keep && strcmp(key, keep) == 0))
			json_object_del(obj, key);
	}
}

void policy_filter_case(const struct policy *p, enum audience aud,
                        const char *caller, json_t *view)
{
	const struct grant *gc = &p->g[aud][KIND_CASE];
	const struct grant *own = &p->g[aud][KIND_OWN];
	json_t *refs = json_object_get(view, "referrals");
	if (refs && !grant_has(gc, "referrals") && (own->all || own->n > 0) &&
	    caller) {
		json_t *mine = json_array();
		size_t i;
		json_t *r;
		json_array_foreach(refs, i, r) {
			const char *who = json_string_value(json_object_get(r, "principal"));
			if (!mine || !who || strcmp(who, caller) != 0)
				continue;
			json_t *copy = json_deep_copy(r);
			if (!copy)
				continue;
			keep_granted(own, copy, NULL);
			json_array_append_new(mine, copy);
		}
		keep_granted(gc, view, "referrals");
		if (mine)
			json_object_set_new(view, "referrals", mine);
		else
			json_object_del(view, "referrals");
		return;
	}
	keep_granted(gc, view, NULL);
}

void policy_filter_case_entry(const struct policy *p, enum audience aud,
                              json_t *entry)
{
	keep_granted(&p->g[aud][KIND_CASE], entry, "subject");
}

void policy_filter_referral(const struct policy *p, enum audience aud,
                            const char *caller, json_t *view)
{
	const struct grant *gr = &p->g[aud][KIND_REFERRAL];
	(void)caller;
	keep_granted(gr, view, NULL);
	json_t *cases = json_object_get(view, "cases");
	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c)
		policy_filter_case_entry(p, aud, c);
}

int policy_holder_init(struct policy_holder *h, struct policy *initial)
{
	h->current = initial;
	h->gen = 0;
	return pthread_rwlock_init(&h->lock, NULL) == 0 ? RG_OK : RG_ENOMEM;
}

const struct policy *policy_acquire(struct policy_holder *h)
{
	pthread_rwlock_rdlock(&h->lock);
	return h->current;
}

void policy_release(struct policy_holder *h)
{
	pthread_rwlock_unlock(&h->lock);
}

void policy_swap(struct policy_holder *h, struct policy *next)
{
	pthread_rwlock_wrlock(&h->lock);
	struct policy *old = h->current;
	h->current = next;
	h->gen++;
	pthread_rwlock_unlock(&h->lock);
	policy_free(old);
}

void policy_holder_destroy(struct policy_holder *h)
{
	policy_free(h->current);
	h->current = NULL;
	pthread_rwlock_destroy(&h->lock);
}
