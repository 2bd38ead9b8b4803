/*
 * routes.h - the one routing table: method, path pattern, handler, the
 * roles that may call it and what the body must be. Checks that apply to
 * every route (roles, content type, body size) happen in one place.
 */
#ifndef RG_ROUTES_H
#define RG_ROUTES_H

#include "request.h"

#define ROLE_BIT(r) (1u << (r))
#define ROLES_SUBMIT (ROLE_BIT(ROLE_PARTNER) | ROLE_BIT(ROLE_AGENCY))
#define ROLES_ANY (ROLES_SUBMIT | ROLE_BIT(ROLE_REVIEWER) | ROLE_BIT(ROLE_LEGAL))

struct route {
	const char *method;
	const char *pattern;          /* "/v1/cases/{id}/decision" */
	handler_fn handler;
	unsigned roles;               /* ROLE_BIT set */
	const char *content_type;     /* required body type, NULL: no body */
};

/* Room for the path parameters of one request: {id} and {name} are one
 * segment of at most RG_KID_MAX bytes; {ref}, a removal order's
 * reference, is everything between the pattern's fixed prefix and fixed
 * suffix (it may hold '/', sent as %2F), 1-128 characters without
 * control characters. */
#define ROUTE_PARAM_MAX (REFERRAL_REFERENCE_MAX * 4)
struct route_params {
	char value[2][ROUTE_PARAM_MAX + 1];
};

/*
 * Finds the route for method and path. On success fills req->params
 * (pointing into params) and returns the route. Returns NULL with *status
 * 404 when no pattern matches the path (a parameter outside its alphabet
 * does not match) or 405 when the path matches but not the method.
 */
const struct route *routes_match(const char *method, const char *path,
                                 struct route_params *params,
                                 const char *out[2], int *status);

/* The number of routes, a route's index and its name for metrics
 * ("POST /v1/referrals"). */
size_t routes_count(void);
size_t routes_index(const struct route *r);
const char *routes_name(size_t index);

/* The methods the table has for path, as an Allow header value. */
void routes_allow(const char *path, char *out, size_t cap);

/* Paths under this prefix are the legal team's; any other role gets 403
 * there, whether or not the path exists. */
#define ROUTES_ADMIN_PREFIX "/v1/admin/"

/* Handlers, one file per resource. */
void h_referral_submit(struct request *req, struct response *res);
void h_referral_get(struct request *req, struct response *res);
void h_case_get(struct request *req, struct response *res);
void h_case_decide(struct request *req, struct response *res);
void h_review_queue(struct request *req, struct response *res);
void h_case_claim(struct request *req, struct response *res);
void h_case_release(struct request *req, struct response *res);
/* 409 conflict naming the reviewer whose claim holds case id and until
 * when: *held, or (NULL) the claim storage has now. */
struct store_claim;
void h_claim_conflict(struct request *req, const char *id,
                      const struct store_claim *held, struct response *res);
void h_changes(struct request *req, struct response *res);
void h_keys(struct request *req, struct response *res);
void h_principal_enrol(struct request *req, struct response *res);
void h_principal_revoke(struct request *req, struct response *res);
void h_principal_list(struct request *req, struct response *res);
void h_access_key_issue(struct request *req, struct response *res);
void h_access_key_list(struct request *req, struct response *res);
void h_access_key_revoke(struct request *req, struct response *res);
void h_audit_list(struct request *req, struct response *res);
void h_purge(struct request *req, struct response *res);
void h_report(struct request *req, struct response *res);
void h_partner_stats(struct request *req, struct response *res);
void h_statements_list(struct request *req, struct response *res);
void h_statements_mark(struct request *req, struct response *res);
void h_log_checkpoint(struct request *req, struct response *res);
void h_order_get(struct request *req, struct response *res);
void h_order_preserve(struct request *req, struct response *res);
void h_order_withhold(struct request *req, struct response *res);
void h_log_inclusion(struct request *req, struct response *res);
void h_log_consistency(struct request *req, struct response *res);

#endif
