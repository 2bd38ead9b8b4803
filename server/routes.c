/*
 * routes.c - the routing table and its matcher.
 */
#include "routes.h"
#include "console.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const struct route table[] = {
	{"POST", "/v1/referrals", h_referral_submit, ROLES_SUBMIT, "application/jose"},
	{"GET", "/v1/referrals/{id}", h_referral_get, ROLES_ANY, NULL},
	{"GET", "/v1/cases/{id}", h_case_get, ROLES_ANY, NULL},
	{"POST", "/v1/cases/{id}/decision", h_case_decide,
	 ROLE_BIT(ROLE_REVIEWER), "application/json"},
	{"POST", "/v1/cases/{id}/claim", h_case_claim, ROLE_BIT(ROLE_REVIEWER), NULL},
	{"DELETE", "/v1/cases/{id}/claim", h_case_release,
	 ROLE_BIT(ROLE_REVIEWER), NULL},
	{"GET", "/v1/changes", h_changes, ROLES_ANY, NULL},
	{"GET", "/v1/review/queue", h_review_queue, ROLE_BIT(ROLE_REVIEWER), NULL},
	{"GET", "/v1/keys", h_keys, ROLES_ANY, NULL},
	{"GET", "/v1/log/checkpoint", h_log_checkpoint, ROLES_ANY, NULL},
	{"GET", "/v1/log/inclusion", h_log_inclusion, ROLES_ANY, NULL},
	{"GET", "/v1/log/consistency", h_log_consistency, ROLES_ANY, NULL},
	{"POST", "/v1/admin/principals", h_principal_enrol,
	 ROLE_BIT(ROLE_LEGAL), "application/json"},
	{"GET", "/v1/admin/principals", h_principal_list, ROLE_BIT(ROLE_LEGAL), NULL},
	{"DELETE", "/v1/admin/principals/{name}", h_principal_revoke,
	 ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/v1/admin/access-keys", h_access_key_issue,
	 ROLE_BIT(ROLE_LEGAL), "application/json"},
	{"GET", "/v1/admin/access-keys", h_access_key_list, ROLE_BIT(ROLE_LEGAL), NULL},
	{"DELETE", "/v1/admin/access-keys/{id}", h_access_key_revoke,
	 ROLE_BIT(ROLE_LEGAL), NULL},
	{"GET", "/v1/admin/audit", h_audit_list, ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/v1/admin/purge", h_purge, ROLE_BIT(ROLE_LEGAL), NULL},
	{"GET", "/v1/admin/report", h_report, ROLE_BIT(ROLE_LEGAL), NULL},
	{"GET", "/v1/admin/statements", h_statements_list, ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/v1/admin/statements/exported", h_statements_mark,
	 ROLE_BIT(ROLE_LEGAL), "application/json"},
	{"GET", "/v1/partners/me/stats", h_partner_stats, ROLES_SUBMIT, NULL},
	/* removal orders: the issuing agency's; 404 for anyone else */
	{"GET", "/v1/removal-orders/{ref}", h_order_get, ROLES_ANY, NULL},
	{"POST", "/v1/removal-orders/{ref}/preservation", h_order_preserve,
	 ROLES_ANY, "application/json"},
	{"POST", "/v1/removal-orders/{ref}/withhold", h_order_withhold,
	 ROLES_ANY, "application/json"},
	/* the web console (console.h): reviewers and the legal team */
#define ROLES_CONSOLE (ROLE_BIT(ROLE_REVIEWER) | ROLE_BIT(ROLE_LEGAL))
#define FORM "application/x-www-form-urlencoded"
	{"GET", "/console/", h_console_home, ROLES_CONSOLE, NULL},
	{"GET", "/console/style.css", h_console_css, ROLES_CONSOLE, NULL},
	{"GET", "/console/queue", h_console_queue, ROLE_BIT(ROLE_REVIEWER), NULL},
	{"GET", "/console/cases/{id}", h_console_case, ROLE_BIT(ROLE_REVIEWER), NULL},
	{"POST", "/console/cases/{id}/claim", h_console_claim,
	 ROLE_BIT(ROLE_REVIEWER), FORM},
	{"POST", "/console/cases/{id}/decision", h_console_decide,
	 ROLE_BIT(ROLE_REVIEWER), FORM},
	{"GET", "/console/principals", h_console_principals, ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/console/principals", h_console_enrol, ROLE_BIT(ROLE_LEGAL), FORM},
	{"GET", "/console/principals/{name}/revoke", h_console_revoke_ask,
	 ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/console/principals/{name}/revoke", h_console_revoke,
	 ROLE_BIT(ROLE_LEGAL), FORM},
	{"GET", "/console/keys", h_console_keys, ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/console/keys", h_console_key_issue, ROLE_BIT(ROLE_LEGAL), FORM},
	{"GET", "/console/keys/{id}/revoke", h_console_key_revoke_ask,
	 ROLE_BIT(ROLE_LEGAL), NULL},
	{"POST", "/console/keys/{id}/revoke", h_console_key_revoke,
	 ROLE_BIT(ROLE_LEGAL), FORM},
	{"GET", "/console/audit", h_console_audit, ROLE_BIT(ROLE_LEGAL), NULL},
	{"GET", "/console/audit/verify", h_console_audit_verify,
	 ROLE_BIT(ROLE_LEGAL), NULL},
};

/* Matches one path segment [seg, seg+len) against a pattern segment. */
static bool segment_matches(const char *pat, size_t plen, const char *seg,
                            size_t len, char *value)
{
	if (plen >= 2 && pat[0] == '{') {
		if (len == 0 || len > RG_KID_MAX)
			return false;
		memcpy(value, seg, len);
		value[len] = '\0';
		if (strncmp(pat, "{id}", plen) == 0)
			return rg_id_valid(value);
		if (strncmp(pat, "{name}", plen) == 0)
			return rg_name_valid(value);
		return false;
	}
	return plen == len && memcmp(pat, seg, len) == 0;
}

/* A reference: 1-128 characters of valid UTF-8 (jansson's check: no
 * order can hold anything else, and PostgreSQL refuses to compare it),
 * no control characters. */
static bool ref_valid(const char *s, size_t len)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			return false;
		chars += (ch & 0xC0) != 0x80;
	}
	if (chars < 1 || chars > REFERRAL_REFERENCE_MAX)
		return false;
	json_t *utf8 = json_stringn(s, len);
	json_decref(utf8);
	return utf8 != NULL;
}

/* The rest of path s, matched against the pattern rest p that starts
 * with {ref}: the pattern's fixed tail must end the path; the reference
 * is what lies before it. */
static bool ref_matches(const char *p, const char *s, char *value)
{
	const char *tail = p + strlen("{ref}");
	size_t slen = strlen(s), tlen = strlen(tail);
	if (strchr(tail, '{') || slen <= tlen ||
	    strcmp(s + slen - tlen, tail) != 0)
		return false;
	size_t len = slen - tlen;
	if (len > ROUTE_PARAM_MAX || !ref_valid(s, len))
		return false;
	memcpy(value, s, len);
	value[len] = '\0';
	return true;
}

/* Whether path matches pattern; fills params on a match. */
static bool path_matches(const char *pattern, const char *path,
                         struct route_params *params, const char *out[2])
{
	const char *p = pattern, *s = path;
	int n = 0;
	while (*p && *s) {
		if (strncmp(p, "/{ref}", 6) == 0 && *s == '/') {
			char *value = params->value[n < 2 ? n : 1];
			if (!ref_matches(p + 1, s + 1, value))
				return false;
			if (n < 2)
				out[n] = value;
			return true;
		}
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		size_t plen = strcspn(p, "/"), len = strcspn(s, "/");
		char *value = params->value[n < 2 ? n : 1];
		if (!segment_matches(p, plen, s, len, value))
			return false;
		if (p[0] == '{' && n < 2)
			out[n++] = value;
		p += plen;
		s += len;
	}
	return *p == '\0' && *s == '\0';
}

#define N_ROUTES (sizeof table / sizeof table[0])

static char route_names[N_ROUTES][64];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void make_names(void)
{
	for (size_t i = 0; i < N_ROUTES; i++)
		snprintf(route_names[i], sizeof route_names[i], "%s %s",
			 table[i].method, table[i].pattern);
}

size_t routes_count(void)
{
	return N_ROUTES;
}

size_t routes_index(const struct route *r)
{
	return r ? (size_t)(r - table) : N_ROUTES;
}

const char *routes_name(size_t index)
{
	pthread_once(&names_once, make_names);
	return index < N_ROUTES ? route_names[index] : "none";
}

void routes_allow(const char *path, char *out, size_t cap)
{
	struct route_params params;
	size_t pos = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const char *tmp[2];
		if (!path_matches(table[i].pattern, path, &params, tmp))
			continue;
		int n = snprintf(out + pos, cap - pos, "%s%s", pos ? ", " : "",
				 table[i].method);
		if (n < 0 || (size_t)n >= cap - pos)
			break;
		pos += (size_t)n;
	}
}

const struct route *routes_match(const char *method, const char *path,
                                 struct route_params *params,
                                 const char *out[2], int *status)
{
	bool path_found = false;
	*status = 404;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const char *tmp[2] = {NULL, NULL};
		if (!path_matches(table[i].pattern, path, params, tmp))
			continue;
		path_found = true;
		if (strcmp(table[i].method, method) == 0) {
			out[0] = tmp[0];
			out[1] = tmp[1];
			return &table[i];
		}
	}
	if (path_found)
		*status = 405;
	return NULL;
}
