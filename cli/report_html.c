/*
 * report_html.c - the transparency report as one self-contained HTML
 * file, made from the JSON of GET /v1/admin/report: tables of every
 * figure and four inline SVG charts (referrals per week by category,
 * decisions by outcome, time to decision by urgency, removal orders
 * within / after the hour). No script, no external resource; a
 * Content-Security-Policy meta tag allows only the one inline style
 * sheet, by its hash.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#define HTML_MAX (8u << 20)

/* ---- a growable buffer with a cap ----------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
	bool err;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->err)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->p ? b->p + b->n : NULL,
		                  b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->err = true;
			return;
		}
		if (b->p && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		size_t want = b->n + (size_t)k + 1;
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < want)
			cap *= 2;
		char *np = cap <= HTML_MAX ? realloc(b->p, cap) : NULL;
		if (!np) {
			b->err = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

/* Text as HTML (element content and double-quoted attributes). */
static void sb_text(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		case '"': sb_printf(b, "&quot;"); break;
		case '\'': sb_printf(b, "&#39;"); break;
		default: sb_printf(b, "%c", *s); break;
		}
	}
}

/* ---- reading the report --------------------------------------------- */

/* A figure of the report: a count, or "<N" for a count below N. */
struct fig {
	int64_t v;                   /* the count, or N - 1 when suppressed */
	bool below;                  /* "<N" */
	bool ok;
};

static struct fig fig_get(const json_t *v, int min)
{
	struct fig f = { 0 };
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		f.v = json_integer_value(v);
		f.ok = true;
	} else if (json_is_string(v)) {
		char want[16];
		snprintf(want, sizeof want, "<%d", min);
		f.ok = strcmp(json_string_value(v), want) == 0;
		f.below = true;
		f.v = min - 1;
	}
	return f;
}

/* The figure at a path of object members, e.g. ("decisions",
 * "no_action", "illegal_content"); !ok when absent or malformed. */
static struct fig fig_at(const json_t *root, int min, int depth, ...)
{
	va_list ap;
	const json_t *v = root;
	va_start(ap, depth);
	for (int i = 0; i < depth && v; i++)
		v = json_object_get(v, va_arg(ap, const char *));
	va_end(ap);
	return fig_get(v, min);
}

static void sb_fig(struct sbuf *b, struct fig f)
{
	if (f.below)
		sb_printf(b, "&lt;%lld", (long long)f.v + 1);
	else
		sb_printf(b, "%lld", (long long)f.v);
}

static const char *const categories[] = {
	"terrorist_content", "violent_extremism", "incitement_to_violence",
	"hate_speech", "other_illegal",
};
static const char *const cat_colors[] = {
	"#b2182b", "#ef8a62", "#762a83", "#2166ac", "#5aae61",
};
#define N_CATS (sizeof categories / sizeof categories[0])
static const char *const outcomes[] = {
	"account_suspended", "content_removed", "content_restricted",
	"no_action",
};
static const char *const grounds[] = { "illegal_content",
	                               "terms_of_service" };
static const char *const ground_colors[] = { "#2166ac", "#92c5de" };
static const char *const urgencies[] = { "routine", "urgent",
	                                 "imminent_harm" };
static const char *const order_keys[] = {
	"actioned_within_hour", "actioned_after_hour", "not_actioned", "open",
};
static const char *const order_labels[] = {
	"within the hour", "after the hour", "not actioned", "still open",
};
static const char *const order_colors[] = {
	"#1a9850", "#d73027", "#878787", "#fdae61",
};

/* ---- charts --------------------------------------------------------- */

#define W 760.0
#define H 240.0
#define LEFT 150.0
#define TOP 20.0
#define PLOT_W (W - LEFT - 20.0)
#define PLOT_H (H - TOP - 40.0)
#define MARK_H 3.0                   /* a count below the threshold */

/* A bar as a path: x, y (top), width, height. */
static void bar(struct sbuf *b, double x, double y, double w, double h,
                const char *fill, bool pale)
{
	if (h <= 0 || w <= 0)
		return;
	sb_printf(b, "<path d=\"M%.1f %.1fh%.1fv%.1fh%.1fZ\" fill=\"%s\"%s/>",
	          x, y, w, h, -w, fill,
	          pale ? " fill-opacity=\"0.35\" stroke=\"#333\""
	                 " stroke-dasharray=\"3 2\"" : "");
}

static void svg_open(struct sbuf *b, const char *id, const char *title,
                     double h)
{
	sb_printf(b, "<figure><svg id=\"%s\" role=\"img\" viewBox=\"0 0 %.0f"
	          " %.0f\" width=\"%.0f\" height=\"%.0f\"><title>", id, W, h, W, h);
	sb_text(b, title);
	sb_printf(b, "</title>");
}

static void legend(struct sbuf *b, double y, const char *const *names,
                   const char *const *colors, size_t n)
{
	double x = 20;
	for (size_t i = 0; i < n; i++) {
		bar(b, x, y - 9, 10, 10, colors[i], false);
		sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 14, y);
		sb_text(b, names[i]);
		sb_printf(b, "</text>");
		x += 24 + 6.6 * (double)strlen(names[i]);
	}
}

/* Horizontal bars, one row per label, stacked segments. */
struct hbars {
	size_t rows, segs;
	const char *const *labels;
	const char *const *colors;
	struct fig v[4][4];
};

static void hbars_draw(struct sbuf *b, const struct hbars *hb, double h,
                       const char *unit)
{
	double max = 0;
	for (size_t r = 0; r < hb->rows; r++) {
		double sum = 0;
		for (size_t s = 0; s < hb->segs; s++)
			sum += (double)hb->v[r][s].v;
		if (sum > max)
			max = sum;
	}
	double row_h = (h - TOP - 40.0) / (double)hb->rows;
	for (size_t r = 0; r < hb->rows; r++) {
		double y = TOP + row_h * (double)r, x = LEFT, sum = 0;
		sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
		          LEFT - 6, y + row_h * 0.6);
		sb_text(b, hb->labels[r]);
		sb_printf(b, "</text>");
		for (size_t s = 0; s < hb->segs; s++) {
			double w = max > 0 ? PLOT_W * 0.85 *
			           (double)hb->v[r][s].v / max : 0;
			bar(b, x, y + row_h * 0.15, w, row_h * 0.7,
			    hb->colors[s], hb->v[r][s].below);
			x += w;
			sum += (double)hb->v[r][s].v;
		}
		sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">%.0f%s</text>", x + 6,
		          y + row_h * 0.6, sum, unit);
	}
	sb_printf(b, "<path d=\"M%.1f %.1fV%.1f\" stroke=\"#333\"/>", LEFT,
	          TOP, h - 40.0);
}

static void chart_weeks(struct sbuf *b, const json_t *rep, int min)
{
	const json_t *weeks = json_object_get(rep, "referrals_per_week");
	size_t n = json_array_size(weeks);
	double max = 1;
	for (size_t w = 0; w < n; w++) {
		const json_t *c = json_object_get(json_array_get(weeks, w), "counts");
		double sum = 0;
		for (size_t k = 0; k < N_CATS; k++) {
			struct fig f = fig_get(json_object_get(c, categories[k]), min);
			sum += f.below ? 0 : (double)f.v;
		}
		if (sum > max)
			max = sum;
	}
	max *= PLOT_H / (PLOT_H - MARK_H * (double)N_CATS);
	svg_open(b, "chart-weeks", "Referrals per week by category", H + 30);
	double slot = n ? PLOT_W / (double)n : PLOT_W;
	/* a date label is about 70 units wide at font size 10 */
	size_t label_step = (size_t)(70.0 / slot) + 1;
	for (size_t w = 0; w < n; w++) {
		const json_t *wk = json_array_get(weeks, w);
		const json_t *c = json_object_get(wk, "counts");
		double y = TOP + PLOT_H;
		for (size_t k = 0; k < N_CATS; k++) {
			struct fig f = fig_get(json_object_get(c, categories[k]), min);
			/* a count below the threshold is not drawn to scale */
			double h = f.below ? MARK_H : PLOT_H * (double)f.v / max;
			y -= h;
			bar(b, LEFT + slot * (double)w + slot * 0.1, y, slot * 0.8, h,
			    cat_colors[k], f.below);
		}
		if (w % label_step == 0) {
			sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">",
			          LEFT + slot * (double)w, TOP + PLOT_H + 14);
			sb_text(b, json_string_value(json_object_get(wk, "week")));
			sb_printf(b, "</text>");
		}
	}
	sb_printf(b, "<path d=\"M%.1f %.1fV%.1fH%.1f\" stroke=\"#333\""
	          " fill=\"none\"/>", LEFT, TOP, TOP + PLOT_H, LEFT + PLOT_W);
	sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>",
	          LEFT - 6, TOP + 10, max);
	sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>",
	          LEFT - 6, TOP + PLOT_H);
	legend(b, H + 20, categories, cat_colors, N_CATS);
	sb_printf(b, "</svg><figcaption>Referrals received per week (weeks"
	          " start on Monday), by category. The thin pale segments are"
	          " counts below %d (zero included), not drawn to scale; the"
	          " tables below give every figure.</figcaption></figure>",
	          min);
}

static void chart_decisions(struct sbuf *b, const json_t *rep, int min)
{
	struct hbars hb = { .rows = 4, .segs = 2, .labels = outcomes,
	                    .colors = ground_colors };
	for (size_t r = 0; r < 4; r++)
		for (size_t s = 0; s < 2; s++)
			hb.v[r][s] = fig_at(rep, min, 3, "decisions", outcomes[r],
			                    grounds[s]);
	svg_open(b, "chart-decisions", "Decisions by outcome and ground", H);
	hbars_draw(b, &hb, H - 10, "");
	legend(b, H - 12, grounds, ground_colors, 2);
	sb_printf(b, "</svg><figcaption>Decisions that closed a case in the"
	          " period, by outcome and ground.</figcaption></figure>");
}

static void chart_durations(struct sbuf *b, const json_t *rep, int min)
{
	static const char *const stats[] = { "median_seconds", "p90_seconds" };
	static const char *const names[] = { "median", "90th percentile" };
	static const char *const colors[] = { "#4393c3", "#053061" };
	struct fig v[3][2];
	bool none[3] = { false, false, false };
	double max = 0;
	for (size_t r = 0; r < 3; r++)
		for (size_t s = 0; s < 2; s++) {
			const json_t *j = json_object_get(json_object_get(
				json_object_get(rep, "time_to_decision"),
				urgencies[r]), stats[s]);
			struct fig f = json_is_null(j) ? (struct fig){ .ok = true }
			                               : fig_get(j, min);
			none[r] = none[r] || json_is_null(j);
			v[r][s] = f;
			if ((double)f.v > max)
				max = (double)f.v;
		}
	svg_open(b, "chart-durations", "Time to decision by urgency (hours)", H);
	double row_h = (H - TOP - 50.0) / 3.0;
	for (size_t r = 0; r < 3; r++) {
		double y = TOP + row_h * (double)r;
		sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
		          LEFT - 6, y + row_h * 0.5);
		sb_text(b, urgencies[r]);
		sb_printf(b, "</text>");
		for (size_t s = 0; s < 2; s++) {
			double w = max > 0 ? PLOT_W * 0.8 * (double)v[r][s].v / max
			                   : 0;
			double by = y + row_h * (0.1 + 0.4 * (double)s);
			bar(b, LEFT, by, w, row_h * 0.35, colors[s], false);
			if (none[r] && s == 0)
				sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size="
				          "\"11\">no decision</text>", LEFT + 6,
				          by + row_h * 0.28);
			else if (!none[r])
				sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size="
				          "\"11\">%.1f h</text>", LEFT + w + 6,
				          by + row_h * 0.28,
				          (double)v[r][s].v / 3600.0);
		}
	}
	sb_printf(b, "<path d=\"M%.1f %.1fV%.1f\" stroke=\"#333\"/>", LEFT, TOP,
	          H - 40.0);
	legend(b, H - 12, names, colors, 2);
	sb_printf(b, "</svg><figcaption>From a case's opening to its decision,"
	          " for the cases decided in the period, by the case's"
	          " urgency.</figcaption></figure>");
}

static void chart_orders(struct sbuf *b, const json_t *rep, int min)
{
	struct fig v[4];
	double max = 0;
	for (size_t r = 0; r < 4; r++) {
		v[r] = fig_at(rep, min, 2, "removal_orders", order_keys[r]);
		if ((double)v[r].v > max)
			max = (double)v[r].v;
	}
	svg_open(b, "chart-orders", "Removal orders: within and after the hour",
	         H - 20);
	double row_h = (H - 20 - TOP - 30.0) / 4.0;
	for (size_t r = 0; r < 4; r++) {
		double y = TOP + row_h * (double)r;
		double w = max > 0 ? PLOT_W * 0.85 * (double)v[r].v / max : 0;
		sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
		          LEFT - 6, y + row_h * 0.6);
		sb_text(b, order_labels[r]);
		sb_printf(b, "</text>");
		bar(b, LEFT, y + row_h * 0.15, w, row_h * 0.7, order_colors[r],
		    v[r].below);
		sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", LEFT + w + 6,
		          y + row_h * 0.6);
		sb_fig(b, v[r]);
		sb_printf(b, "</text>");
	}
	sb_printf(b, "<path d=\"M%.1f %.1fV%.1f\" stroke=\"#333\"/>", LEFT, TOP,
	          H - 50.0);
	sb_printf(b, "</svg><figcaption>Removal orders received in the period:"
	          " all their cases actioned within the hour, after it, decided"
	          " otherwise, or not yet decided.</figcaption></figure>");
}

/* ---- tables --------------------------------------------------------- */

static void row2(struct sbuf *b, const char *label, struct fig f)
{
	sb_printf(b, "<tr><th scope=\"row\">");
	sb_text(b, label);
	sb_printf(b, "</th><td>");
	sb_fig(b, f);
	sb_printf(b, "</td></tr>");
}

static void tables(struct sbuf *b, const json_t *rep, int min)
{
	sb_printf(b, "<h2>Referrals</h2><table><thead><tr><th>category</th>"
	          "<th>partners</th><th>agencies</th></tr></thead><tbody>");
	for (size_t k = 0; k < N_CATS; k++) {
		sb_printf(b, "<tr><th scope=\"row\">");
		sb_text(b, categories[k]);
		sb_printf(b, "</th><td>");
		sb_fig(b, fig_at(rep, min, 4, "referrals", "by_category",
		                 categories[k], "partner"));
		sb_printf(b, "</td><td>");
		sb_fig(b, fig_at(rep, min, 4, "referrals", "by_category",
		                 categories[k], "agency"));
		sb_printf(b, "</td></tr>");
	}
	sb_printf(b, "<tr><th scope=\"row\">all</th><td>");
	sb_fig(b, fig_at(rep, min, 3, "referrals", "by_role", "partner"));
	sb_printf(b, "</td><td>");
	sb_fig(b, fig_at(rep, min, 3, "referrals", "by_role", "agency"));
	sb_printf(b, "</td></tr></tbody></table><table><tbody>");
	row2(b, "cases opened", fig_at(rep, min, 1, "cases_opened"));
	sb_printf(b, "</tbody></table>");

	sb_printf(b, "<h2>Decisions</h2><table><thead><tr><th>outcome</th>"
	          "<th>illegal_content</th><th>terms_of_service</th></tr>"
	          "</thead><tbody>");
	for (size_t r = 0; r < 4; r++) {
		sb_printf(b, "<tr><th scope=\"row\">");
		sb_text(b, outcomes[r]);
		for (size_t s = 0; s < 2; s++) {
			sb_printf(b, "</th><td>");
			sb_fig(b, fig_at(rep, min, 3, "decisions", outcomes[r],
			                 grounds[s]));
		}
		sb_printf(b, "</td></tr>");
	}
	sb_printf(b, "</tbody></table><table><thead><tr><th>urgency</th>"
	          "<th>decided</th><th>median (h)</th><th>90th percentile (h)"
	          "</th></tr></thead><tbody>");
	for (size_t u = 0; u < 3; u++) {
		const json_t *t = json_object_get(json_object_get(rep,
		                                  "time_to_decision"), urgencies[u]);
		sb_printf(b, "<tr><th scope=\"row\">");
		sb_text(b, urgencies[u]);
		sb_printf(b, "</th><td>");
		sb_fig(b, fig_get(json_object_get(t, "decided"), min));
		const char *k[] = { "median_seconds", "p90_seconds" };
		for (size_t i = 0; i < 2; i++) {
			const json_t *v = json_object_get(t, k[i]);
			if (json_is_integer(v))
				sb_printf(b, "</td><td>%.1f",
				          (double)json_integer_value(v) / 3600.0);
			else
				sb_printf(b, "</td><td>&#8211;");
		}
		sb_printf(b, "</td></tr>");
	}
	sb_printf(b, "</tbody></table>");

	sb_printf(b, "<h2>Removal orders and preservation</h2><table><tbody>");
	row2(b, "removal orders received",
	     fig_at(rep, min, 2, "removal_orders", "received"));
	for (size_t r = 0; r < 4; r++)
		row2(b, order_labels[r], fig_at(rep, min, 2, "removal_orders",
		                                order_keys[r]));
	row2(b, "cannot execute: force majeure",
	     fig_at(rep, min, 3, "removal_orders", "cannot_execute",
	            "force_majeure"));
	row2(b, "cannot execute: manifest error",
	     fig_at(rep, min, 3, "removal_orders", "cannot_execute",
	            "manifest_error"));
	row2(b, "cannot execute: insufficient information",
	     fig_at(rep, min, 3, "removal_orders", "cannot_execute",
	            "insufficient_information"));
	row2(b, "preservation holds started",
	     fig_at(rep, min, 2, "preservation_holds", "started"));
	row2(b, "preservation holds active now",
	     fig_at(rep, min, 2, "preservation_holds", "active"));
	sb_printf(b, "</tbody></table><h2>Access keys and disclosures</h2>"
	          "<table><tbody>");
	row2(b, "status keys issued",
	     fig_at(rep, min, 3, "access_keys", "issued", "status"));
	row2(b, "disclosure keys issued",
	     fig_at(rep, min, 3, "access_keys", "issued", "disclosure"));
	row2(b, "disclosures made",
	     fig_at(rep, min, 2, "access_keys", "disclosures"));
	sb_printf(b, "</tbody></table>");
}

/* Whether every figure the page shows is there and well-formed. */
static bool report_valid(const json_t *rep, int min)
{
	bool ok = json_is_string(json_object_get(rep, "from")) &&
	          json_is_string(json_object_get(rep, "to")) &&
	          json_is_array(json_object_get(rep, "referrals_per_week")) &&
	          json_array_size(json_object_get(rep, "referrals_per_week")) <= 60;
	for (size_t k = 0; ok && k < N_CATS; k++)
		ok = fig_at(rep, min, 4, "referrals", "by_category", categories[k],
		            "partner").ok &&
		     fig_at(rep, min, 4, "referrals", "by_category", categories[k],
		            "agency").ok;
	const json_t *weeks = json_object_get(rep, "referrals_per_week");
	for (size_t w = 0; ok && w < json_array_size(weeks); w++) {
		const json_t *wk = json_array_get(weeks, w);
		ok = json_is_string(json_object_get(wk, "week"));
		for (size_t k = 0; ok && k < N_CATS; k++)
			ok = fig_get(json_object_get(json_object_get(wk, "counts"),
			                             categories[k]), min).ok;
	}
	for (size_t r = 0; ok && r < 4; r++)
		ok = fig_at(rep, min, 3, "decisions", outcomes[r], grounds[0]).ok &&
		     fig_at(rep, min, 3, "decisions", outcomes[r], grounds[1]).ok &&
		     fig_at(rep, min, 2, "removal_orders", order_keys[r]).ok;
	for (size_t u = 0; ok && u < 3; u++)
		ok = fig_at(rep, min, 3, "time_to_decision", urgencies[u],
		            "decided").ok;
	return ok;
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:2em auto;max-width:800px;"
	"color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}"
	"table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid"
	" #ccc;padding:.2em .6em;text-align:right}th[scope=row]{text-align:"
	"left;font-weight:normal}figure{margin:1.2em 0}svg text{font:12px"
	" sans-serif;fill:#222}figcaption{font-size:.9em;color:#555}";

int report_html_render(const json_t *rep, char **out, size_t *len)
{
	struct sbuf b = { 0 };
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	                                   sodium_base64_VARIANT_ORIGINAL)];
	const json_t *mc = json_object_get(rep, "min_count");
	int min = json_is_integer(mc) && json_integer_value(mc) >= 1 &&
	          json_integer_value(mc) <= 1000 ? (int)json_integer_value(mc) : 0;
	if (!min || !report_valid(rep, min))
		return RG_EINVAL;
	crypto_hash_sha256(h, (const unsigned char *)style, strlen(style));
	sodium_bin2base64(b64, sizeof b64, h, sizeof h,
	                  sodium_base64_VARIANT_ORIGINAL);
	const char *from = json_string_value(json_object_get(rep, "from"));
	const char *to = json_string_value(json_object_get(rep, "to"));
	const char *gen = json_string_value(json_object_get(rep, "generated_at"));
	sb_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	          "<meta charset=\"utf-8\">"
	          "<meta http-equiv=\"Content-Security-Policy\" content=\""
	          "default-src 'none'; style-src 'sha256-%s'; img-src 'none';"
	          " base-uri 'none'; form-action 'none'\">"
	          "<meta name=\"referrer\" content=\"no-referrer\">"
	          "<title>Transparency report ", b64);
	sb_text(&b, from);
	sb_printf(&b, " to ");
	sb_text(&b, to);
	sb_printf(&b, "</title><style>%s</style></head><body><h1>Transparency"
	          " report, ", style);
	sb_text(&b, from);
	sb_printf(&b, " to ");
	sb_text(&b, to);
	sb_printf(&b, "</h1><p>Made by refgate");
	if (gen) {
		sb_printf(&b, " at ");
		sb_text(&b, gen);
	}
	sb_printf(&b, ". Counts by category below %d are shown as &lt;%d.</p>",
	          min, min);
	chart_weeks(&b, rep, min);
	chart_decisions(&b, rep, min);
	chart_durations(&b, rep, min);
	chart_orders(&b, rep, min);
	tables(&b, rep, min);
	sb_printf(&b, "</body></html>\n");
	if (b.err) {
		free(b.p);
		return RG_ENOMEM;
	}
	*out = b.p;
	*len = b.n;
	return RG_OK;
}
