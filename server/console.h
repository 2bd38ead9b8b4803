/*
 * console.h - the web console for reviewers and the legal team, served
 * under /console/ on the gateway's own listener: server-rendered pages
 * behind the same auth gate, routes, policy and audit as the API (its
 * forms call the API's own handlers). What http.c and routes.c need.
 */
#ifndef RG_CONSOLE_H
#define RG_CONSOLE_H

#include "request.h"

#define CONSOLE_PREFIX "/console"

/* Whether path is the console's (every answer there gets
 * console_headers, error answers included). */
bool console_path(const char *path);

/* The headers every console answer carries: a strict
 * Content-Security-Policy, no framing, no referrer, no sniffing. */
extern const char *const console_headers[][2];
extern const size_t console_n_headers;

/* Pages (console.c, console_review.c, console_legal.c). */
void h_console_home(struct request *req, struct response *res);
void h_console_css(struct request *req, struct response *res);
void h_console_queue(struct request *req, struct response *res);
void h_console_case(struct request *req, struct response *res);
void h_console_claim(struct request *req, struct response *res);
void h_console_decide(struct request *req, struct response *res);
void h_console_principals(struct request *req, struct response *res);
void h_console_enrol(struct request *req, struct response *res);
void h_console_revoke_ask(struct request *req, struct response *res);
void h_console_revoke(struct request *req, struct response *res);
void h_console_keys(struct request *req, struct response *res);
void h_console_key_issue(struct request *req, struct response *res);
void h_console_key_revoke_ask(struct request *req, struct response *res);
void h_console_key_revoke(struct request *req, struct response *res);
void h_console_audit(struct request *req, struct response *res);
void h_console_audit_verify(struct request *req, struct response *res);

#endif
