/*
 * console_review.c - the reviewers' pages: the queue with deadline
 * countdowns and claims, a case with its decrypted referrals and
 * evidence (the reviewer's API view), and the claim and decision forms.
 * Each page and form goes through the API's own handler (console_call).
 */
#include "console_int.h"
#include "routes.h"

#include <stdio.h>
#include <string.h>

#define CASE_PATH CONSOLE_PREFIX "/cases/"

/* A time as "2026-11-28 14:03 UTC" with a countdown (or age). */
static void when(struct html *h, int64_t t, int64_t now)
{
	char s[21];
	if (!t) {
		HTML_RAW(h, "<span class=\"muted\">-</span>");
		return;
	}
	rg_time_format(t, s);
	html_textf(h, "%.10s %.5s UTC (", s, s + 11);
	html_countdown(h, t, now);
	HTML_RAW(h, ")");
}

static void case_link(struct html *h, const char *id)
{
	HTML_RAW(h, "<a href=\"" CASE_PATH);
	html_text(h, id);
	HTML_RAW(h, "\">");
	html_text(h, id);
	HTML_RAW(h, "</a>");
}

/* The claim cell: who holds it and for how long, or a claim button. */
static void claim_cell(struct html *h, const struct request *req, json_t *c,
                       const char *next)
{
	const char *who = json_str(c, "claimed_by");
	const char *id = json_str(c, "case_id");
	char action[96];
	if (who) {
		html_text(h, who);
		HTML_RAW(h, " <span class=\"muted\">(expires ");
		html_countdown(h, json_time(c, "claim_expires_at"), req->now);
		HTML_RAW(h, ")</span> ");
	}
	if (who && strcmp(who, req->principal.name) != 0)
		return;
	snprintf(action, sizeof action, CASE_PATH "%s/claim", id ? id : "");
	form_begin(h, req, action);
	HTML_RAW(h, "<input type=\"hidden\" name=\"next\" value=\"");
	html_text(h, next);
	HTML_RAW(h, "\">");
	if (who)
		HTML_RAW(h, "<button name=\"do\" value=\"claim\">Renew</button> "
		            "<button name=\"do\" value=\"release\">Release</button>");
	else
		HTML_RAW(h, "<button name=\"do\" value=\"claim\">Claim</button>");
	HTML_RAW(h, "</form>");
}

void h_console_queue(struct request *req, struct response *res)
{
	struct response r;
	console_call(req, h_review_queue, NULL, NULL, &r);
	json_t *ans = r.status == 200 ? console_json(&r) : NULL;
	json_t *list = json_object_get(ans, "cases"), *c;
	size_t i;
	if (!json_is_array(list)) {
		json_decref(ans);
		page_problem(req, res, &r, "Review queue");
		return;
	}
	free(r.body);
	struct html h = {0};
	page_begin(&h, req, "Review queue");
	html_textf(&h, "%zu open case%s, most urgent first.", json_array_size(list),
	           json_array_size(list) == 1 ? "" : "s");
	HTML_RAW(&h, "<table id=\"queue\"><thead><tr><th>Case</th><th>Status</th>"
	             "<th>Deadline</th><th>Urgency</th><th>Principals</th>"
	             "<th>Opened</th><th>Claimed by</th></tr></thead><tbody>");
	json_array_foreach(list, i, c) {
		int64_t deadline = json_time(c, "deadline_at");
		HTML_RAW(&h, "<tr><td>");
		case_link(&h, json_str(c, "case_id"));
		HTML_RAW(&h, "</td><td>");
		html_text(&h, json_str(c, "status"));
		HTML_RAW(&h, "</td><td>");
		if (deadline) {
			HTML_RAW(&h, "<span class=\"due\">");
			html_text(&h, deadline < req->now ? "OVERDUE " : "");
			html_countdown(&h, deadline, req->now);
			HTML_RAW(&h, "</span>");
		} else {
			HTML_RAW(&h, "<span class=\"muted\">none</span>");
		}
		HTML_RAW(&h, "</td><td>");
		html_text(&h, json_str(c, "urgency"));
		HTML_RAW(&h, "</td><td>");
		html_int(&h, json_integer_value(json_object_get(c, "principal_count")));
		HTML_RAW(&h, "</td><td>");
		html_countdown(&h, json_time(c, "opened_at"), req->now);
		HTML_RAW(&h, "</td><td>");
		claim_cell(&h, req, c, "queue");
		HTML_RAW(&h, "</td></tr>");
	}
	HTML_RAW(&h, "</tbody></table>");
	json_decref(ans);
	page_send(req, res, &h, 200);
}

/* One row of a definition table: name, then the escaped value. */
static void row(struct html *h, const char *name, const char *value)
{
	HTML_RAW(h, "<tr><th>");
	html_text(h, name);
	HTML_RAW(h, "</th><td>");
	if (value)
		html_text(h, value);
	else
		HTML_RAW(h, "<span class=\"muted\">-</span>");
	HTML_RAW(h, "</td></tr>");
}

static void subjects(struct html *h, json_t *list)
{
	json_t *s;
	size_t i;
	HTML_RAW(h, "<ul>");
	json_array_foreach(list, i, s) {
		static const char *const keys[] = {"account_id", "handle", "url"};
		HTML_RAW(h, "<li>");
		for (size_t k = 0; k < 3; k++) {
			if (!json_str(s, keys[k]))
				continue;
			html_textf(h, "%s: ", keys[k]);
			HTML_RAW(h, "<code>");
			html_text(h, json_str(s, keys[k]));
			HTML_RAW(h, "</code> ");
		}
		HTML_RAW(h, "</li>");
	}
	HTML_RAW(h, "</ul>");
}

/* Evidence is shown, never linked: a reviewer opens a URL deliberately,
 * outside the console, and checks it against its sha256. */
static void evidence(struct html *h, json_t *list)
{
	json_t *e;
	size_t i;
	if (json_array_size(list) == 0) {
		HTML_RAW(h, "<p class=\"muted\">No evidence.</p>");
		return;
	}
	HTML_RAW(h, "<table class=\"evidence\"><tr><th>URL</th><th>SHA-256</th>"
	            "<th>Type</th><th>Captured</th></tr>");
	json_array_foreach(list, i, e) {
		HTML_RAW(h, "<tr><td><code>");
		html_text(h, json_str(e, "url"));
		HTML_RAW(h, "</code></td><td><code>");
		html_text(h, json_str(e, "sha256"));
		HTML_RAW(h, "</code></td><td>");
		html_text(h, json_str(e, "media_type"));
		HTML_RAW(h, "</td><td>");
		json_t *at = json_object_get(e, "captured_at");
		if (json_is_string(at))
			html_text(h, json_string_value(at));
		else if (json_is_integer(at))
			html_int(h, json_integer_value(at));
		HTML_RAW(h, "</td></tr>");
	}
	HTML_RAW(h, "</table>");
}

static void referrals(struct html *h, json_t *list)
{
	json_t *r;
	size_t i;
	html_textf(h, "%zu referral%s", json_array_size(list),
	           json_array_size(list) == 1 ? "" : "s");
	json_array_foreach(list, i, r) {
		HTML_RAW(h, "<div class=\"box referral\"><table>");
		row(h, "Referral", json_str(r, "referral_id"));
		row(h, "From", json_str(r, "principal"));
		row(h, "Received", json_str(r, "received_at"));
		row(h, "Category", json_str(r, "category"));
		row(h, "Urgency", json_str(r, "urgency"));
		row(h, "Partner reference", json_str(r, "partner_ref"));
		json_t *ro = json_object_get(r, "removal_order");
		if (ro) {
			row(h, "Removal order", json_str(ro, "reference"));
			row(h, "Issuing authority", json_str(ro, "issuing_authority"));
			row(h, "Legal basis", json_str(ro, "legal_basis"));
			row(h, "Notice withheld until (as issued)",
			    json_str(ro, "withhold_notice_until"));
		}
		HTML_RAW(h, "</table><h3>Subjects</h3>");
		subjects(h, json_object_get(r, "subjects"));
		HTML_RAW(h, "<h3>Evidence</h3>");
		evidence(h, json_object_get(r, "evidence"));
		if (json_str(r, "summary")) {
			HTML_RAW(h, "<h3>Summary</h3><pre>");
			html_text(h, json_str(r, "summary"));
			HTML_RAW(h, "</pre>");
		}
		HTML_RAW(h, "</div>");
	}
}

static void decisions(struct html *h, json_t *list)
{
	json_t *d;
	size_t i;
	if (json_array_size(list) == 0)
		return;
	HTML_RAW(h, "<h2>Decisions</h2><table id=\"decisions\"><tr><th>When</th>"
	            "<th>Reviewer</th><th>Status</th><th>Action</th><th>Ground</th>"
	            "<th>Legal ground</th><th>Explanation</th></tr>");
	json_array_foreach(list, i, d) {
		static const char *const cols[] = {"decided_at", "reviewer", "status",
		                                   "action", "ground", "legal_ground"};
		HTML_RAW(h, "<tr>");
		for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
			HTML_RAW(h, "<td>");
			html_text(h, json_str(d, cols[k]));
			HTML_RAW(h, "</td>");
		}
		HTML_RAW(h, "<td><pre>");
		html_text(h, json_str(d, "explanation"));
		HTML_RAW(h, "</pre></td></tr>");
	}
	HTML_RAW(h, "</table>");
}

/* Whether a referral of the case carried a removal order. */
static bool names_removal_order(json_t *list)
{
	json_t *r;
	size_t i;
	json_array_foreach(list, i, r)
		if (json_object_get(r, "removal_order"))
			return true;
	return false;
}

/* The decision form: the statement of reasons' fields (DSA Art. 17). */
static void decision_form(struct html *h, const struct request *req,
                          const char *id, const char *status, bool order)
{
	char action[96];
	bool open = strcmp(status, "received") == 0 ||
	            strcmp(status, "in_review") == 0;
	if (!open)
		return;
	snprintf(action, sizeof action, CASE_PATH "%s/decision", id);
	HTML_RAW(h, "<h2>Decide</h2><div class=\"box\">");
	form_begin(h, req, action);
	HTML_RAW(h, "<label for=\"status\">Decision</label>"
	            "<select id=\"status\" name=\"status\">");
	if (strcmp(status, "received") == 0)
		HTML_RAW(h, "<option value=\"in_review\">take it: in_review</option>");
	else
		HTML_RAW(h, "<option value=\"actioned\">actioned</option>"
		            "<option value=\"no_action\">no_action</option>");
	/* a removal order's Annex III answer (contract section 9) */
	if (order && strcmp(status, "in_review") == 0)
		HTML_RAW(h, "<option value=\"cannot_execute\">cannot_execute"
		            " (removal order, Annex III)</option>");
	HTML_RAW(h, "</select>");
	if (order && strcmp(status, "in_review") == 0)
		HTML_RAW(h, "<label for=\"reason\">Reason (cannot_execute"
		            " only)</label>"
		            "<select id=\"reason\" name=\"reason\">"
		            "<option value=\"force_majeure\">force_majeure</option>"
		            "<option value=\"manifest_error\">manifest_error</option>"
		            "<option value=\"insufficient_information\">"
		            "insufficient_information</option>"
		            "</select>");
	if (strcmp(status, "in_review") == 0)
		HTML_RAW(h, "<label for=\"action\">Action (actioned only)</label>"
		            "<select id=\"action\" name=\"action\">"
		            "<option value=\"\">none (no_action)</option>"
		            "<option value=\"account_suspended\">account_suspended</option>"
		            "<option value=\"content_removed\">content_removed</option>"
		            "<option value=\"content_restricted\">content_restricted</option>"
		            "</select>"
		            "<label for=\"ground\">Ground</label>"
		            "<select id=\"ground\" name=\"ground\">"
		            "<option value=\"illegal_content\">illegal_content</option>"
		            "<option value=\"terms_of_service\">terms_of_service</option>"
		            "</select>"
		            "<label for=\"legal_ground\">Legal ground the statement"
		            " of reasons cites (actioned or no_action; optional,"
		            " 1-500 characters; empty: the configured"
		            " default)</label>"
		            "<input type=\"text\" id=\"legal_ground\""
		            " name=\"legal_ground\" maxlength=\"500\">"
		            "<label for=\"explanation\">Explanation: the facts and"
		            " circumstances, and the law or terms clause (1-4000"
		            " characters)</label>"
		            "<textarea id=\"explanation\" name=\"explanation\""
		            " maxlength=\"4000\" required></textarea>");
	HTML_RAW(h, "<p><button type=\"submit\">Record the decision</button></p>"
	            "</form></div>");
}

void h_console_case(struct request *req, struct response *res)
{
	struct response r;
	const char *id = req->params[0];
	console_call(req, h_case_get, id, NULL, &r);
	json_t *v = r.status == 200 ? console_json(&r) : NULL;
	if (!v) {
		page_problem(req, res, &r, "Case");
		return;
	}
	free(r.body);
	const char *status = json_str(v, "status") ? json_str(v, "status") : "";
	const char *cid = json_str(v, "case_id") ? json_str(v, "case_id") : id;
	char title[80];
	snprintf(title, sizeof title, "Case %s", cid);
	struct html h = {0};
	page_begin(&h, req, title);
	HTML_RAW(&h, "<table id=\"case\">");
	row(&h, "Status", status);
	row(&h, "Action", json_str(v, "action"));
	row(&h, "Urgency", json_str(v, "urgency"));
	row(&h, "Account id", json_str(v, "account_id"));
	row(&h, "Handle", json_str(v, "handle"));
	HTML_RAW(&h, "<tr><th>Opened</th><td>");
	when(&h, json_time(v, "opened_at"), req->now);
	HTML_RAW(&h, "</td></tr><tr><th>Deadline</th><td>");
	if (json_time(v, "deadline_at"))
		HTML_RAW(&h, "<span class=\"due\">");
	when(&h, json_time(v, "deadline_at"), req->now);
	if (json_time(v, "deadline_at"))
		HTML_RAW(&h, "</span>");
	if (json_time(v, "notice_withheld_until")) {
		/* Art. 11(3) of Regulation (EU) 2021/784 */
		HTML_RAW(&h, "</td></tr><tr><th>Notice withheld until</th><td>"
		             "<span class=\"due\">");
		when(&h, json_time(v, "notice_withheld_until"), req->now);
		HTML_RAW(&h, "</span> (the account holder may not be told "
		             "before then)");
	}
	HTML_RAW(&h, "</td></tr><tr><th>Decided</th><td>");
	when(&h, json_time(v, "decided_at"), req->now);
	HTML_RAW(&h, "</td></tr><tr><th>Principals</th><td>");
	html_int(&h, json_integer_value(json_object_get(v, "principal_count")));
	HTML_RAW(&h, "</td></tr><tr><th>Claim</th><td>");
	if (strcmp(status, "received") == 0 || strcmp(status, "in_review") == 0)
		claim_cell(&h, req, v, "case");
	HTML_RAW(&h, "</td></tr></table>");
	decision_form(&h, req, cid, status,
	              names_removal_order(json_object_get(v, "referrals")));
	HTML_RAW(&h, "<h2>Referrals</h2>");
	referrals(&h, json_object_get(v, "referrals"));
	decisions(&h, json_object_get(v, "decisions"));
	json_decref(v);
	page_send(req, res, &h, 200);
}

/* Where a form came from: back to the queue or to the case. */
static void back(struct response *res, const struct form *f, const char *id)
{
	char to[96];
	const char *next = form_get(f, "next");
	if (next && strcmp(next, "queue") == 0)
		snprintf(to, sizeof to, CONSOLE_PREFIX "/queue");
	else
		snprintf(to, sizeof to, CASE_PATH "%s", id);
	page_redirect(res, to);
}

void h_console_claim(struct request *req, struct response *res)
{
	struct form f;
	struct response r;
	if (!console_post(req, res, &f))
		return;
	const char *what = form_get(&f, "do");
	bool release = what && strcmp(what, "release") == 0;
	if (!what || (!release && strcmp(what, "claim") != 0)) {
		form_free(&f);
		page_error(req, res, 400, "Claim", "do must be claim or release");
		return;
	}
	console_call(req, release ? h_case_release : h_case_claim,
	             req->params[0], NULL, &r);
	if (r.status == 200) {
		free(r.body);
		back(res, &f, req->params[0]);
	} else {
		page_problem(req, res, &r, release ? "Release" : "Claim");
	}
	form_free(&f);
}

void h_console_decide(struct request *req, struct response *res)
{
	struct form f;
	struct response r;
	/* one form serves every outcome: the action goes with actioned
	 * only; cannot_execute takes its reason and the explanation only */
	static const struct {
		const char *name;
		bool actioned, other, cannot_execute;
	} members[] = {
		{"status", true, true, true},
		{"action", true, false, false},
		{"ground", true, true, false},
		{"legal_ground", true, true, false},
		{"reason", false, false, true},
		{"explanation", true, true, true},
	};
	if (!console_post(req, res, &f))
		return;
	json_t *body = json_object();
	const char *status = form_get(&f, "status");
	bool actioned = status && strcmp(status, "actioned") == 0;
	bool cannot = status && strcmp(status, "cannot_execute") == 0;
	size_t n = sizeof members / sizeof members[0];
	for (size_t i = 0; body && i < n; i++) {
		const char *v = form_nonempty(&f, members[i].name);
		bool sent = actioned ? members[i].actioned
		          : cannot ? members[i].cannot_execute : members[i].other;
		if (v && sent)
			json_object_set_new(body, members[i].name, json_string(v));
	}
	console_call(req, h_case_decide, req->params[0], body, &r);
	if (r.status == 200) {
		free(r.body);
		back(res, &f, req->params[0]);
	} else {
		page_problem(req, res, &r, "Decision refused");
	}
	form_free(&f);
}
