/*
 * ops.c - the operations listener (see ops.h).
 */
#include "ops.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"

#include "../proto/problem.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ops {
	struct app *app;
	struct MHD_Daemon *daemon;
	ops_gauges_fn gauges;
	void *gauges_ctx;
};

static int count_one(void *ctx, const struct store_change *c)
{
	(void)ctx;
	(void)c;
	return 0;
}

/* GET /healthz: 200 when one change can be read from storage. */
static char *healthz(struct ops *o, unsigned *status, const char **type)
{
	int64_t last;
	bool ok = store_changes(o->app->store, NULL, INT64_MAX, 1, count_one,
				NULL, &last) == RG_OK;
	*status = ok ? 200 : 503;
	*type = "application/json";
	return strdup(ok ? "{\"status\":\"ok\"}" : "{\"status\":\"unavailable\"}");
}

/* GET /metrics: the counters with the gauges of now (-1: unknown). */
static char *metrics(struct ops *o, const char **type)
{
	struct metrics_gauges g = { .cases = -1, .queue_open = -1,
				    .oldest_open_age = -1, .overdue = -1 };
	struct store_queue_gauges qg;
	int64_t now = (int64_t)time(NULL);
	o->gauges(o->gauges_ctx, &g.open_connections, &g.waiting_polls);
	*type = "text/plain; version=0.0.4";
	if (store_cases_count(o->app->store, &g.cases) != RG_OK)
		g.cases = -1;
	if (store_queue_gauges(o->app->store, now, &qg) == RG_OK) {
		g.queue_open = qg.open;
		g.oldest_open_age = qg.oldest_opened_at ?
			now - qg.oldest_opened_at : 0;
		g.overdue = qg.overdue;
	}
	return metrics_render(&g);
}

static enum MHD_Result on_ops(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
	struct ops *o = cls;
	char *body = NULL;
	const char *type = "application/problem+json";
	unsigned status = 200;
	(void)version;
	(void)upload;
	if (*upload_size > 0)
		return MHD_NO;
	if (!*con_cls) {              /* headers first; answer on the next call */
		*con_cls = o;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0) {
		status = 405;
		body = problem_json(405, "method_not_allowed", NULL, NULL);
	} else if (strcmp(url, "/healthz") == 0) {
		body = healthz(o, &status, &type);
	} else if (strcmp(url, "/metrics") == 0) {
		body = metrics(o, &type);
	} else {
		status = 404;
		body = problem_json(404, "not_found", NULL, NULL);
	}
	if (!body)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

int ops_start(struct app *app, ops_gauges_fn gauges, void *ctx,
              struct ops **out)
{
	const struct conf *c = &app->conf;
	struct sockaddr_storage sa;
	bool v6, loopback;
	*out = NULL;
	if (c->metrics_listen_port == 0)
		return RG_OK;
	if (listen_addr(c->metrics_listen_host, c->metrics_listen_port, &sa, &v6,
			&loopback) != RG_OK || !loopback) {
		log_msg(LOG_ERROR, "metrics_listen: %s is not a loopback address",
			c->metrics_listen_host);
		return RG_EINVAL;
	}
	struct ops *o = calloc(1, sizeof *o);
	if (!o)
		return RG_ENOMEM;
	o->app = app;
	o->gauges = gauges;
	o->gauges_ctx = ctx;
	o->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		(v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
		on_ops, o, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, 64u,
		MHD_OPTION_CONNECTION_TIMEOUT, 10u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024,
		MHD_OPTION_EXTERNAL_LOGGER, listen_log_mhd, o,
		MHD_OPTION_END);
	if (!o->daemon) {
		log_msg(LOG_ERROR, "cannot listen on http://%s:%d: %s",
			c->metrics_listen_host, c->metrics_listen_port,
			listen_error(&sa, v6));
		free(o);
		return RG_EIO;
	}
	log_msg(LOG_INFO, "operations listener on http://%s:%d (/healthz, /metrics)",
		c->metrics_listen_host, c->metrics_listen_port);
	*out = o;
	return RG_OK;
}

void ops_stop(struct ops *o)
{
	if (!o)
		return;
	MHD_stop_daemon(o->daemon);
	free(o);
}
