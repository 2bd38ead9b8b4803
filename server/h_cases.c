/*
 * h_cases.c - GET /v1/cases/{id}, POST /v1/cases/{id}/decision and
 * GET /v1/review/queue.
 */
#include "routes.h"
#include "metrics.h"
#include "statement_evidence.h"
#include "views.h"

#include <stdlib.h>
#include <string.h>

#define EXPLANATION_MAX 4000
#define LEGAL_GROUND_MAX STATEMENT_GROUND_MAX
#define QUEUE_DEFAULT 100
#define QUEUE_MAX 500

/*
 * Decides whether and as whom the caller sees a case: through an access
 * key that covers it (the key's tier), as a reviewer, or as a partner or
 * agency that was given this id for a case it referred into (its own
 * view; another principal's id for the same account is not its own).
 * RG_ENOTFOUND otherwise (answered 404, as for a missing case); another
 * error when the store could not tell (answered 503: a database that
 * cannot be read is never "no such case").
 */
static int case_audience(struct request *req, const char *id, enum audience *aud)
{
	struct store_case c;
	struct store *st = req->app->store;
	int rc = store_case_get(st, id, &c);
	if (rc != RG_OK)
		return rc;
	rc = req->key ? store_access_key_covers(st, req->key, c.id)
	              : RG_ENOTFOUND;
	if (rc == RG_OK) {
		*aud = views_key_audience(req->key);
		return RG_OK;
	}
	if (rc != RG_ENOTFOUND)
		return rc;
	switch (req->principal.role) {
	case ROLE_REVIEWER:
		*aud = AUD_REVIEWER;
		return RG_OK;
	case ROLE_PARTNER:
	case ROLE_AGENCY: {
		struct store_case own;
		*aud = AUD_REFERRER;
		return store_referrer_case_get(st, req->principal.name, id, &own);
	}
	default:
		return RG_ENOTFOUND;   /* legal: only with a disclosure key */
	}
}

/* Writes the audit record of a disclosure: key, principal, case, fields
 * and legal basis. Durable before the answer leaves. */
static int audit_disclosure(struct request *req, json_t *view)
{
	static const char *const fields[] = {"account_id", "handle", "identifiers"};
	json_t *list = json_array();
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (json_object_get(view, fields[i]))
			json_array_append_new(list, json_string(fields[i]));
	if (json_array_size(list) == 0) {
		json_decref(list);
		return RG_OK;
	}
	const char *case_id = json_string_value(json_object_get(view, "case_id"));
	json_t *detail = json_pack("{s:s, s:s, s:o, s:s}", "key", req->key->id,
				   "case_id", case_id ? case_id : "", "fields", list,
				   "legal_basis", req->key->legal_basis);
	char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	int rc = text ? store_audit_append(req->app->store, req->principal.name,
					   "disclosure", case_id ? case_id : "",
					   text, req->now)
		      : RG_ENOMEM;
	free(text);
	if (rc == RG_OK)
		metrics_inc(M_DISCLOSURES);
	return rc;
}

/* The view cache's key for this request: everything the answer
 * depends on but the store's case generation. */
static bool cache_key(struct request *req, uint64_t policy_gen,
                      char key[VIEWCACHE_KEY_MAX])
{
	int n = snprintf(key, VIEWCACHE_KEY_MAX, "%llu|%s|%d|%s|%s",
			 (unsigned long long)policy_gen, req->principal.name,
			 (int)req->principal.role, req->key ? req->key->id : "-",
			 req->params[0]);
	return n > 0 && n < VIEWCACHE_KEY_MAX;
}

/* Answers the case view (ETag and 304 are http.c's, for every GET).
 * gen: the store's case generation read before anything else, or 0 to
 * keep nothing; the answer is kept for it, unless it disclosed
 * identifiers through a disclosure key (those are audited per read and
 * not kept in memory). */
static void send_case(struct request *req, struct response *res, int status,
                      const char *id, enum audience aud, uint64_t gen)
{
	int err;
	const struct policy *pol = policy_acquire(&req->app->policy);
	uint64_t policy_gen = req->app->policy.gen;
	bool via_key = aud == AUD_STATUS_KEY || aud == AUD_DISCLOSURE_KEY;
	json_t *view = views_case(req->app, pol, aud, req->principal.name,
				  via_key ? req->key : NULL, id, &err);
	policy_release(&req->app->policy);
	if (!view) {
		response_store_error(res, err, NULL);
		return;
	}
	if (aud == AUD_DISCLOSURE_KEY && audit_disclosure(req, view) != RG_OK) {
		json_decref(view);     /* no disclosure without its audit record */
		response_problem(res, 503, "unavailable", NULL);
		return;
	}
	/* a notice hold ends with time and may be extended without moving
	 * the case generation: such a view is never kept */
	if (json_object_get(view, "notice_withheld_until"))
		gen = 0;
	response_json(res, status, view);
	char key[VIEWCACHE_KEY_MAX];
	if (gen > 0 && res->status == 200 && aud != AUD_DISCLOSURE_KEY &&
	    cache_key(req, policy_gen, key)) {
		response_etag(res);
		viewcache_put(req->app->views, key, gen, res->body, res->body_len,
			      res->etag);
	}
}

/* A view kept for the current case generation and policy, if any. */
static bool send_cached(struct request *req, struct response *res,
                        uint64_t gen)
{
	char key[VIEWCACHE_KEY_MAX];
	const struct policy *pol = policy_acquire(&req->app->policy);
	uint64_t policy_gen = req->app->policy.gen;
	(void)pol;
	policy_release(&req->app->policy);
	char *body = NULL;
	size_t len = 0;
	if (!cache_key(req, policy_gen, key) ||
	    !viewcache_get(req->app->views, key, gen, &body, &len, res->etag))
		return false;
	free(res->body);
	res->status = 200;
	res->code = NULL;
	res->content_type = "application/json";
	res->body = body;
	res->body_len = len;
	metrics_inc(M_VIEWS_FROM_MEMORY);
	return true;
}

void h_case_get(struct request *req, struct response *res)
{
	enum audience aud;
	uint64_t gen = store_case_generation(req->app->store);
	if (send_cached(req, res, gen))
		return;
	int rc = case_audience(req, req->params[0], &aud);
	if (rc != RG_OK) {
		response_problem(res, rc == RG_ENOTFOUND ? 404 : 503,
		                 rc == RG_ENOTFOUND ? "not_found" : "unavailable",
		                 NULL);
		return;
	}
	send_case(req, res, 200, req->params[0], aud, gen);
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Whether s holds a control character (C0 or DEL). */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A removal order's Annex III answer: { "status": "cannot_execute",
 * "reason", "explanation" } and nothing else; the reason is kept as the
 * decision's ground. */
static int parse_cannot_execute(json_t *root, struct store_decision *d,
                                struct problem_items *items)
{
	static const char *const others[] = { "action", "ground",
					      "legal_ground" };
	d->ground = json_string_value(json_object_get(root, "reason"));
	d->explanation = json_string_value(json_object_get(root, "explanation"));
	if (!store_order_reason_valid(d->ground))
		problem_items_add(items, "must be force_majeure, manifest_error "
				  "or insufficient_information", "/reason");
	size_t elen = d->explanation ? utf8_chars(d->explanation) : 0;
	if (elen == 0 || elen > EXPLANATION_MAX)
		problem_items_add(items, "required, 1-4000 characters",
				  "/explanation");
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		if (json_object_get(root, others[i]))
			problem_items_add(items, "not with status cannot_execute",
					  "/%s", others[i]);
	return items->n > 0 ? RG_EINVAL : RG_OK;
}

/* Reads and checks a decision body into d; fills items on refusal. */
static int parse_decision(const struct request *req, json_t **root,
                          struct store_decision *d, struct problem_items *items)
{
	json_error_t jerr;
	*root = json_loadb((const char *)req->body, req->body_len,
			   JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*root)) {
		problem_items_add(items, "body is not a JSON object", "%s", "");
		return RG_EINVAL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(*root, key, v) {
		if (strcmp(key, "status") && strcmp(key, "action") &&
		    strcmp(key, "ground") && strcmp(key, "explanation") &&
		    strcmp(key, "legal_ground") && strcmp(key, "reason"))
			problem_items_add(items, "unknown member", "/%.100s", key);
	}
	const char *status = json_string_value(json_object_get(*root, "status"));
	const char *action = json_string_value(json_object_get(*root, "action"));
	json_t *jground = json_object_get(*root, "ground");
	json_t *jexpl = json_object_get(*root, "explanation");
	d->ground = json_string_value(jground);
	d->explanation = json_string_value(jexpl);
	/* "received" is a status, so asking for it is a refused move (409
	 * from the state machine), not a malformed body. */
	if (!status || rg_status_parse(status, &d->status) != RG_OK)
		problem_items_add(items, "must be in_review, actioned, no_action "
				  "or cannot_execute", "/status");
	if (d->status == CASE_CANNOT_EXECUTE)
		return parse_cannot_execute(*root, d, items);
	if (json_object_get(*root, "reason"))
		problem_items_add(items, "only with status cannot_execute",
				  "/reason");
	bool final = d->status == CASE_ACTIONED || d->status == CASE_NO_ACTION;
	if (d->status == CASE_ACTIONED) {
		if (!action || rg_action_parse(action, &d->action) != RG_OK)
			problem_items_add(items, "must be account_suspended, content_removed or content_restricted",
					  "/action");
	} else if (json_object_get(*root, "action")) {
		problem_items_add(items, "only with status actioned", "/action");
	}
	bool ground_ok = d->ground && (strcmp(d->ground, "illegal_content") == 0 ||
				       strcmp(d->ground, "terms_of_service") == 0);
	/* in_review may carry a ground and a note; a final decision must:
	 * they are the statement of reasons (DSA Art. 17). */
	if ((final && !ground_ok) || (!final && jground && !ground_ok))
		problem_items_add(items, "must be illegal_content or terms_of_service",
				  "/ground");
	size_t elen = d->explanation ? utf8_chars(d->explanation) : 0;
	if (jexpl && !d->explanation)
		problem_items_add(items, "must be a string", "/explanation");
	else if ((final || jexpl) && (elen == 0 || elen > EXPLANATION_MAX))
		problem_items_add(items, "required, 1-4000 characters", "/explanation");
	/* The legal (or contractual) ground the statement of reasons cites;
	 * without it, the configured default. */
	json_t *jlegal = json_object_get(*root, "legal_ground");
	d->legal_ground = json_string_value(jlegal);
	size_t llen = d->legal_ground ? utf8_chars(d->legal_ground) : 0;
	if (jlegal && (!d->legal_ground || llen == 0 || llen > LEGAL_GROUND_MAX ||
		       has_control(d->legal_ground)))
		problem_items_add(items, "1-500 characters, no control characters",
				  "/legal_ground");
	else if (jlegal && !final)
		problem_items_add(items, "only with status actioned or no_action",
				  "/legal_ground");
	return items->n > 0 ? RG_EINVAL : RG_OK;
}

/* The answer to a committed decision: the reviewer's case view, or, if
 * that cannot be built, the case's own fields; never an error status for
 * a decision that is durable. */
static void send_decided(struct request *req, struct response *res,
                         const struct store_case *after)
{
	send_case(req, res, 200, after->id, AUD_REVIEWER, 0);
	if (res->status == 200)
		return;
	json_t *o = views_case_fields(after);
	const struct policy *pol = policy_acquire(&req->app->policy);
	if (o)
		policy_filter_case(pol, AUD_REVIEWER, NULL, o);
	policy_release(&req->app->policy);
	response_json(res, 200, o);
}

/* 409 naming the case's current status and the move asked for. */
static void bad_transition(struct request *req, const struct store_decision *d,
                           struct response *res)
{
	struct store_case now;
	char detail[160];
	bool got = store_case_get(req->app->store, req->params[0], &now) == RG_OK;
	if (d->status == CASE_CANNOT_EXECUTE && got &&
	    (now.status == CASE_RECEIVED || now.status == CASE_IN_REVIEW)) {
		response_problem(res, 409, "bad_transition",
				 "cannot_execute answers only a case that a "
				 "removal order named");
		return;
	}
	if (got)
		snprintf(detail, sizeof detail,
			 "the case is %s; %s -> %s is not allowed",
			 rg_status_name(now.status), rg_status_name(now.status),
			 rg_status_name(d->status));
	else
		snprintf(detail, sizeof detail, "%s is not allowed from the case's status",
			 rg_status_name(d->status));
	response_problem(res, 409, "bad_transition", detail);
}

void h_case_decide(struct request *req, struct response *res)
{
	struct problem_items items = {0};
	struct store_decision d = {
		.reviewer = req->principal.name, .at = req->now,
		.claim_until = req->now + (int64_t)req->app->conf.claim_minutes * 60,
	};
	json_t *root = NULL;
	struct store_case after;
	struct statement_evidence ev = {0};
	struct statement_defaults defaults;
	int rc;
	if (parse_decision(req, &root, &d, &items) != RG_OK) {
		response_problem_items(res, 400, "invalid_payload", &items);
		goto out;
	}
	/* The statement of reasons an actioned decision makes needs the
	 * evidence's media types and dates, which only the daemon can open.
	 * Read before the decision's transaction: a referral joining the case
	 * in between is not in them (it changes nothing of an actioned
	 * case's decision, only this summary of its evidence). */
	if (d.status == CASE_ACTIONED) {
		rc = statement_evidence_of_case(req->app, req->params[0], &ev);
		if (rc == RG_OK && !rg_id_valid(req->params[0]))
			rc = RG_ENOTFOUND;
		if (rc != RG_OK) {
			response_store_error(res, rc, NULL);
			goto out;
		}
		statement_defaults_from_conf(&req->app->conf, &defaults);
		d.evidence = &ev;
		d.statement_defaults = &defaults;
	}
	rc = store_case_decide(req->app->store, req->params[0], &d, &after);
	if (rc == RG_ECONFLICT)
		bad_transition(req, &d, res);
	else if (rc == RG_ECLAIMED)
		h_claim_conflict(req, req->params[0], NULL, res);
	else if (rc == RG_EINVAL)
		response_problem(res, 400, "invalid_payload", NULL);
	else if (rc != RG_OK)
		response_store_error(res, rc, NULL);
	else
		send_decided(req, res, &after);
out:
	json_decref(root);
}

struct queue_walk {
	struct app *app;
	const struct policy *pol;
	json_t *list;
};

static int add_queued(void *ctx, const struct store_case *c)
{
	struct queue_walk *w = ctx;
	int err;
	json_t *o = views_case_brief(w->app, w->pol, AUD_REVIEWER, c, &err);
	if (!o)
		return err;
	json_array_append_new(w->list, o);
	return 0;
}

void h_review_queue(struct request *req, struct response *res)
{
	int64_t limit;
	if (!request_query_int(req, res, "limit", 1, QUEUE_MAX, QUEUE_DEFAULT,
			       &limit))
		return;
	struct queue_walk w = {.app = req->app, .list = json_array()};
	w.pol = policy_acquire(&req->app->policy);
	int rc = store_review_queue(req->app->store, (size_t)limit, add_queued, &w);
	policy_release(&req->app->policy);
	if (rc != RG_OK) {
		json_decref(w.list);
		response_store_error(res, rc, NULL);
		return;
	}
	response_json(res, 200, json_pack("{s:o}", "cases", w.list));
}
