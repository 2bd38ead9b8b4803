/*
 * console_legal.c - the legal team's pages: principals with certificate
 * expiry, enrolment (a certificate the client CA issued, and for
 * partners and agencies a public JWK) and revocation behind a
 * confirmation page; access keys (active, expired, revoked), issuing one
 * (its secret shown on that one page) and revoking one. Each form goes
 * through the API's own handler (console_call).
 */
#include "console_int.h"
#include "routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRINCIPALS CONSOLE_PREFIX "/principals"
#define KEYS CONSOLE_PREFIX "/keys"
#define DAY 86400
#define WARN_DAYS 30

static void td_text(struct html *h, const char *s)
{
	HTML_RAW(h, "<td>");
	if (s)
		html_text(h, s);
	else
		HTML_RAW(h, "<span class=\"muted\">-</span>");
	HTML_RAW(h, "</td>");
}

/* An expiry cell: the day and the time left, flagged within 30 days. */
static void td_expiry(struct html *h, int64_t t, int64_t now)
{
	char s[21];
	HTML_RAW(h, "<td>");
	if (!t) {
		HTML_RAW(h, "<span class=\"muted\">-</span></td>");
		return;
	}
	rg_time_format(t, s);
	bool soon = t > now && t - now < WARN_DAYS * DAY;
	if (t <= now || soon)
		HTML_RAW(h, "<span class=\"due\">");
	html_textf(h, "%.10s (", s);
	html_countdown(h, t, now);
	HTML_RAW(h, ")");
	if (t <= now || soon)
		HTML_RAW(h, "</span>");
	HTML_RAW(h, "</td>");
}

/* Calls a listing handler; *list the member `name` of its answer, *ans
 * the answer to json_decref. false: res is an error page. */
static bool listing(struct request *req, struct response *res, handler_fn fn,
                    const char *name, const char *title, json_t **ans,
                    json_t **list)
{
	struct response r;
	console_call(req, fn, NULL, NULL, &r);
	*ans = r.status == 200 ? console_json(&r) : NULL;
	*list = json_object_get(*ans, name);
	if (!json_is_array(*list)) {
		json_decref(*ans);
		page_problem(req, res, &r, title);
		return false;
	}
	free(r.body);
	return true;
}

static void enrol_form(struct html *h, const struct request *req)
{
	HTML_RAW(h, "<h2>Enrol a principal</h2><div class=\"box\">");
	form_begin(h, req, PRINCIPALS);
	HTML_RAW(h, "<label for=\"name\">Name (1-64 of a-z 0-9 _ . -)</label>"
	            "<input id=\"name\" name=\"name\" required maxlength=\"64\""
	            " pattern=\"[a-z0-9][a-z0-9_.\\-]{0,63}\">"
	            "<label for=\"role\">Role</label><select id=\"role\" name=\"role\">"
	            "<option>partner</option><option>agency</option>"
	            "<option>reviewer</option><option>legal</option></select>"
	            "<label for=\"certificate\">Client certificate (PEM) issued by"
	            " the gateway's client CA: <code>refgatectl enroll NAME --csr"
	            " FILE</code> signs a CSR with the CA key, which the gateway"
	            " does not hold</label>"
	            "<textarea id=\"certificate\" name=\"certificate\" required"
	            " placeholder=\"-----BEGIN CERTIFICATE-----\"></textarea>"
	            "<label for=\"jwk\">Public signing key (JWK, Ed25519), partners"
	            " and agencies only</label>"
	            "<textarea id=\"jwk\" name=\"jwk\" placeholder='{\"kty\":\"OKP\","
	            "\"crv\":\"Ed25519\",\"x\":\"...\"}'></textarea>"
	            "<p><button type=\"submit\">Enrol</button></p></form></div>");
}

void h_console_principals(struct request *req, struct response *res)
{
	json_t *ans, *list, *p;
	size_t i;
	if (!listing(req, res, h_principal_list, "principals", "Principals",
	             &ans, &list))
		return;
	struct html h = {0};
	page_begin(&h, req, "Principals");
	HTML_RAW(&h, "<table id=\"principals\"><thead><tr><th>Name</th><th>Role</th>"
	             "<th>State</th><th>Certificates</th><th>Signing keys</th>"
	             "<th>Certificate expires</th><th></th></tr></thead><tbody>");
	json_array_foreach(list, i, p) {
		const char *name = json_str(p, "name");
		bool revoked = json_str(p, "revoked_at") != NULL;
		HTML_RAW(&h, "<tr>");
		td_text(&h, name);
		td_text(&h, json_str(p, "role"));
		td_text(&h, revoked ? "revoked" : "active");
		HTML_RAW(&h, "<td>");
		html_int(&h, json_integer_value(json_object_get(p, "certificates")));
		HTML_RAW(&h, "</td><td>");
		html_int(&h, json_integer_value(json_object_get(p, "signing_keys")));
		HTML_RAW(&h, "</td>");
		td_expiry(&h, revoked ? 0 : json_time(p, "certificate_expires_at"),
		          req->now);
		HTML_RAW(&h, "<td>");
		if (!revoked && name && strcmp(name, req->principal.name) != 0) {
			HTML_RAW(&h, "<a href=\"" PRINCIPALS "/");
			html_text(&h, name);
			HTML_RAW(&h, "/revoke\">Revoke&hellip;</a>");
		}
		HTML_RAW(&h, "</td></tr>");
	}
	HTML_RAW(&h, "</tbody></table>");
	json_decref(ans);
	enrol_form(&h, req);
	page_send(req, res, &h, 200);
}

void h_console_enrol(struct request *req, struct response *res)
{
	struct form f;
	struct response r;
	if (!console_post(req, res, &f))
		return;
	const char *jwk = form_nonempty(&f, "jwk");
	json_t *key = jwk ? json_loads(jwk, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (jwk && !json_is_object(key)) {
		json_decref(key);
		form_free(&f);
		page_error(req, res, 400, "Enrolment refused",
		           "The signing key is not a JSON object (a JWK).");
		return;
	}
	json_t *body = json_pack("{s:s, s:s, s:[s]}",
	                         "name", form_get(&f, "name") ? form_get(&f, "name") : "",
	                         "role", form_get(&f, "role") ? form_get(&f, "role") : "",
	                         "certificates", form_get(&f, "certificate")
	                         ? form_get(&f, "certificate") : "");
	if (body && key)
		json_object_set_new(body, "signing_keys", json_pack("[o]", key));
	else
		json_decref(key);
	console_call(req, h_principal_enrol, NULL, body, &r);
	form_free(&f);
	if (r.status == 201 || r.status == 200) {
		free(r.body);
		page_redirect(res, PRINCIPALS);
	} else {
		page_problem(req, res, &r, "Enrolment refused");
	}
}

/* The confirmation page of a revocation: what goes, and one button. */
static void ask(struct request *req, struct response *res, const char *title,
                const char *what, const char *action, const char *cancel)
{
	struct html h = {0};
	page_begin(&h, req, title);
	HTML_RAW(&h, "<div class=\"box\"><p>");
	html_text(&h, what);
	HTML_RAW(&h, "</p><p><strong>This cannot be undone.</strong></p>");
	form_begin(&h, req, action);
	HTML_RAW(&h, "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
	             "<button type=\"submit\" id=\"confirm\">");
	html_text(&h, title);
	HTML_RAW(&h, "</button> <a href=\"");
	html_text(&h, cancel);
	HTML_RAW(&h, "\">Cancel</a></form></div>");
	page_send(req, res, &h, 200);
}

void h_console_revoke_ask(struct request *req, struct response *res)
{
	char title[RG_NAME_MAX + 16], what[RG_NAME_MAX + 200], action[RG_NAME_MAX + 48];
	const char *name = req->params[0];
	snprintf(title, sizeof title, "Revoke %s", name);
	snprintf(what, sizeof what, "Revoke principal %s? Every certificate and"
	         " signing key of it stops working at its next request, on every"
	         " connection.", name);
	snprintf(action, sizeof action, PRINCIPALS "/%s/revoke", name);
	ask(req, res, title, what, action, PRINCIPALS);
}

/* A confirmed revocation through the API handler h, then back to `to`. */
static void revoke(struct request *req, struct response *res, handler_fn fn,
                   const char *to, const char *title)
{
	struct form f;
	struct response r;
	if (!console_post(req, res, &f))
		return;
	const char *confirm = form_get(&f, "confirm");
	if (!confirm || strcmp(confirm, "yes") != 0) {
		form_free(&f);
		page_error(req, res, 400, title, "Not confirmed: nothing was revoked.");
		return;
	}
	form_free(&f);
	console_call(req, fn, req->params[0], NULL, &r);
	if (r.status == 200) {
		free(r.body);
		page_redirect(res, to);
	} else {
		page_problem(req, res, &r, title);
	}
}

void h_console_revoke(struct request *req, struct response *res)
{
	revoke(req, res, h_principal_revoke, PRINCIPALS, "Revocation refused");
}

/* ---- access keys ---------------------------------------------------- */

static const char *key_state(json_t *k, int64_t now)
{
	if (json_str(k, "revoked_at"))
		return "revoked";
	return json_time(k, "expires_at") > now ? "active" : "expired";
}

static void issue_form(struct html *h, const struct request *req)
{
	HTML_RAW(h, "<h2>Issue an access key</h2><div class=\"box\">");
	form_begin(h, req, KEYS);
	HTML_RAW(h, "<label for=\"principal\">Agency (principal name)</label>"
	            "<input id=\"principal\" name=\"principal\" required maxlength=\"64\">"
	            "<label for=\"tier\">Tier</label><select id=\"tier\" name=\"tier\">"
	            "<option value=\"status\">status</option>"
	            "<option value=\"disclosure\">disclosure (account identifiers,"
	            " every answer audited)</option></select>"
	            "<label for=\"cases\">Cases (ids separated by commas or blanks),"
	            " or all_own for every case the agency referred</label>"
	            "<input id=\"cases\" name=\"cases\" required>"
	            "<label for=\"legal_basis\">Legal basis</label>"
	            "<textarea id=\"legal_basis\" name=\"legal_basis\" required"
	            " maxlength=\"500\"></textarea>"
	            "<label for=\"days\">Expires in days</label>"
	            "<input id=\"days\" name=\"days\" type=\"number\" min=\"1\""
	            " value=\"30\" required>"
	            "<p><button type=\"submit\">Issue</button></p></form></div>");
}

void h_console_keys(struct request *req, struct response *res)
{
	json_t *ans, *list, *k;
	size_t i, shown = 0;
	const char *show = request_query(req, "show");
	if (!show || (strcmp(show, "expired") && strcmp(show, "revoked") &&
	              strcmp(show, "all")))
		show = "active";
	if (!listing(req, res, h_access_key_list, "access_keys", "Access keys",
	             &ans, &list))
		return;
	struct html h = {0};
	page_begin(&h, req, "Access keys");
	HTML_RAW(&h, "<p>Show: <a href=\"" KEYS "?show=active\">active</a> | "
	             "<a href=\"" KEYS "?show=expired\">expired</a> | "
	             "<a href=\"" KEYS "?show=revoked\">revoked</a> | "
	             "<a href=\"" KEYS "?show=all\">all</a> (now: ");
	html_text(&h, show);
	HTML_RAW(&h, ")</p><table id=\"keys\"><thead><tr><th>Id</th><th>Principal</th>"
	             "<th>Tier</th><th>State</th><th>Expires</th><th>Scope</th>"
	             "<th>Legal basis</th><th>Uses</th><th></th></tr></thead><tbody>");
	json_array_foreach(list, i, k) {
		const char *state = key_state(k, req->now);
		if (strcmp(show, "all") && strcmp(show, state))
			continue;
		shown++;
		HTML_RAW(&h, "<tr>");
		td_text(&h, json_str(k, "id"));
		td_text(&h, json_str(k, "principal"));
		td_text(&h, json_str(k, "tier"));
		td_text(&h, state);
		td_expiry(&h, json_time(k, "expires_at"), req->now);
		json_t *cases = json_object_get(k, "cases");
		HTML_RAW(&h, "<td>");
		if (json_is_array(cases))
			html_textf(&h, "%zu case%s", json_array_size(cases),
			           json_array_size(cases) == 1 ? "" : "s");
		else
			html_text(&h, json_string_value(cases));
		HTML_RAW(&h, "</td>");
		td_text(&h, json_str(k, "legal_basis"));
		HTML_RAW(&h, "<td>");
		html_int(&h, json_integer_value(json_object_get(k, "use_count")));
		HTML_RAW(&h, "</td><td>");
		if (strcmp(state, "active") == 0) {
			HTML_RAW(&h, "<a href=\"" KEYS "/");
			html_text(&h, json_str(k, "id"));
			HTML_RAW(&h, "/revoke\">Revoke&hellip;</a>");
		}
		HTML_RAW(&h, "</td></tr>");
	}
	HTML_RAW(&h, "</tbody></table>");
	if (!shown)
		HTML_RAW(&h, "<p class=\"muted\">No such key.</p>");
	json_decref(ans);
	issue_form(&h, req);
	page_send(req, res, &h, 200);
}

/* The scope field: "all_own", or case ids separated by commas or blanks. */
static json_t *scope_of(const char *text)
{
	if (strcmp(text, "all_own") == 0)
		return json_string("all_own");
	json_t *list = json_array();
	const char *p = text;
	while (list && *p) {
		p += strspn(p, ", \t\r\n");
		size_t n = strcspn(p, ", \t\r\n");
		if (n)
			json_array_append_new(list, json_stringn(p, n));
		p += n;
	}
	return list;
}

/* The page that shows a new key's secret, this once. */
static void show_secret(struct request *req, struct response *res, json_t *k)
{
	struct html h = {0};
	page_begin(&h, req, "Access key issued");
	HTML_RAW(&h, "<div class=\"box\"><p>Key <code id=\"key-id\">");
	html_text(&h, json_str(k, "id"));
	HTML_RAW(&h, "</code> for ");
	html_text(&h, json_str(k, "principal"));
	HTML_RAW(&h, " (");
	html_text(&h, json_str(k, "tier"));
	HTML_RAW(&h, "), expires ");
	html_text(&h, json_str(k, "expires_at"));
	HTML_RAW(&h, ".</p><p><strong>The secret, shown this once</strong> (the"
	             " gateway keeps only its hash): hand it to the agency over a"
	             " channel you trust.</p><p class=\"secret\" id=\"secret\">");
	html_text(&h, json_str(k, "secret"));
	HTML_RAW(&h, "</p><p><a href=\"" KEYS "\">Back to the keys</a></p></div>");
	page_send(req, res, &h, 201);
}

void h_console_key_issue(struct request *req, struct response *res)
{
	struct form f;
	struct response r;
	char until[21];
	if (!console_post(req, res, &f))
		return;
	const char *days = form_get(&f, "days");
	int64_t d;
	if (!request_int_parse(days, 1, 100000, &d)) {
		form_free(&f);
		page_error(req, res, 400, "Issuing refused",
		           "Expires in days: a whole number of days, at least 1.");
		return;
	}
	rg_time_format(req->now + d * DAY, until);
	const char *cases = form_get(&f, "cases") ? form_get(&f, "cases") : "";
	json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:s}",
	                         "principal", form_get(&f, "principal")
	                         ? form_get(&f, "principal") : "",
	                         "tier", form_get(&f, "tier") ? form_get(&f, "tier") : "",
	                         "cases", scope_of(cases),
	                         "legal_basis", form_get(&f, "legal_basis")
	                         ? form_get(&f, "legal_basis") : "",
	                         "expires_at", until);
	form_free(&f);
	console_call(req, h_access_key_issue, NULL, body, &r);
	json_t *k = r.status == 201 ? console_json(&r) : NULL;
	if (!k) {
		page_problem(req, res, &r, "Issuing refused");
		return;
	}
	sodium_memzero(r.body, r.body_len);   /* it held the secret */
	free(r.body);
	show_secret(req, res, k);
	const char *secret = json_str(k, "secret");
	if (secret)                           /* jansson's own copy */
		sodium_memzero((char *)secret, strlen(secret));
	json_decref(k);
}

void h_console_key_revoke_ask(struct request *req, struct response *res)
{
	char title[RG_ID_MAX + 16], what[RG_ID_MAX + 160], action[RG_ID_MAX + 48];
	snprintf(title, sizeof title, "Revoke %s", req->params[0]);
	snprintf(what, sizeof what, "Revoke access key %s? It stops working at"
	         " its next use.", req->params[0]);
	snprintf(action, sizeof action, KEYS "/%s/revoke", req->params[0]);
	ask(req, res, title, what, action, KEYS);
}

void h_console_key_revoke(struct request *req, struct response *res)
{
	revoke(req, res, h_access_key_revoke, KEYS, "Revocation refused");
}
