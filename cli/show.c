/*
 * show.c - the gateway's answers as people read them: tables for
 * `principals`, `key list` and `queue`, one line for `decide` and
 * `claim`. Every string from
 * the gateway is printed through show_text, which replaces anything that
 * could drive a terminal. `--json` bypasses this file (cli_report).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define DAY 86400

/* s with every byte outside printable ASCII replaced by '?', cut to
 * cap - 1 bytes; "-" for NULL or "". */
static const char *show_text(char *buf, size_t cap, const char *s)
{
	size_t j = 0;
	for (; s && *s && j + 1 < cap; s++)
		buf[j++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	buf[j] = '\0';
	return j ? buf : "-";
}

static const char *member(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* "2027-01-04 (in 32 days)", "2026-12-10 (in 7 days!)", "2026-11-01
 * (expired)"; "-" when t is absent or unreadable. *soon: within
 * CLI_EXPIRY_WARN_DAYS and not yet past. */
static const char *show_expiry(char *buf, size_t cap, const char *t,
                               int64_t now, bool *soon)
{
	int64_t at;
	*soon = false;
	if (!t || rg_time_parse(t, &at) != RG_OK) {
		snprintf(buf, cap, "-");
		return buf;
	}
	char day[21];
	rg_time_format(at, day);
	day[10] = '\0';
	if (at <= now) {
		snprintf(buf, cap, "%s (expired)", day);
		return buf;
	}
	int64_t days = (at - now) / DAY;
	*soon = days < CLI_EXPIRY_WARN_DAYS;
	snprintf(buf, cap, "%s (in %lld day%s%s)", day, (long long)days,
	         days == 1 ? "" : "s", *soon ? "!" : "");
	return buf;
}

int show_principals(json_t *ans, int64_t now)
{
	json_t *list = json_object_get(ans, "principals"), *p;
	size_t i, soon_n = 0;
	char name[RG_NAME_MAX + 1], warn[512] = "";
	size_t warn_used = 0;

	if (!json_is_array(list))
		return cli_fail("principals: the gateway's answer has no list");
	printf("%-24s %-9s %-8s %5s %4s  %s\n", "NAME", "ROLE", "STATE",
	       "CERTS", "KEYS", "CERTIFICATE EXPIRES");
	json_array_foreach(list, i, p) {
		char role[16], exp[48];
		bool revoked = member(p, "revoked_at") != NULL, soon;
		show_text(name, sizeof name, member(p, "name"));
		show_expiry(exp, sizeof exp, revoked ? NULL :
		            member(p, "certificate_expires_at"), now, &soon);
		printf("%-24s %-9s %-8s %5lld %4lld  %s\n", name,
		       show_text(role, sizeof role, member(p, "role")),
		       revoked ? "revoked" : "active",
		       (long long)json_integer_value(json_object_get(p, "certificates")),
		       (long long)json_integer_value(json_object_get(p, "signing_keys")),
		       exp);
		if (soon && warn_used < sizeof warn) {
			int n = snprintf(warn + warn_used, sizeof warn - warn_used,
			                 "%s%s", soon_n ? ", " : "", name);
			if (n > 0)
				warn_used += (size_t)n;
			soon_n++;
		}
	}
	if (fflush(stdout) != 0)
		return cli_fail("stdout: write error");
	if (soon_n)
		fprintf(stderr, "refgatectl: warning: the certificate of %zu "
		        "principal%s expires within %d days (%s): enroll a new "
		        "one (refgatectl enroll NAME --csr ...)\n", soon_n,
		        soon_n == 1 ? "" : "s", CLI_EXPIRY_WARN_DAYS, warn);
	return CLI_OK;
}

const char *show_key_state(json_t *k, int64_t now)
{
	int64_t exp;
	if (member(k, "revoked_at"))
		return "revoked";
	if (!member(k, "expires_at") ||
	    rg_time_parse(member(k, "expires_at"), &exp) != RG_OK || exp <= now)
		return "expired";
	return "active";
}

bool show_key_wanted(json_t *k, int64_t now, bool active_only,
                     const char *principal)
{
	if (active_only && strcmp(show_key_state(k, now), "active") != 0)
		return false;
	return !principal || (member(k, "principal") &&
	                      strcmp(member(k, "principal"), principal) == 0);
}

int show_keys(json_t *ans, int64_t now, bool active_only,
              const char *principal)
{
	json_t *list = json_object_get(ans, "access_keys"), *k;
	size_t i, shown = 0;

	if (!json_is_array(list))
		return cli_fail("key list: the gateway's answer has no list");
	printf("%-24s %-20s %-10s %-8s %-28s %s\n", "ID", "PRINCIPAL", "TIER",
	       "STATE", "EXPIRES", "SCOPE");
	json_array_foreach(list, i, k) {
		char id[RG_ID_MAX + 1], who[RG_NAME_MAX + 1], tier[16], exp[48];
		char scope[32];
		bool soon;
		const char *state = show_key_state(k, now);
		if (!show_key_wanted(k, now, active_only, principal))
			continue;
		json_t *cases = json_object_get(k, "cases");
		if (json_is_array(cases))
			snprintf(scope, sizeof scope, "%zu case%s",
			         json_array_size(cases),
			         json_array_size(cases) == 1 ? "" : "s");
		else
			show_text(scope, sizeof scope, json_string_value(cases));
		show_expiry(exp, sizeof exp, strcmp(state, "active") == 0 ?
		            member(k, "expires_at") : NULL, now, &soon);
		printf("%-24s %-20s %-10s %-8s %-28s %s\n",
		       show_text(id, sizeof id, member(k, "id")),
		       show_text(who, sizeof who, member(k, "principal")),
		       show_text(tier, sizeof tier, member(k, "tier")), state,
		       strcmp(state, "active") == 0 ? exp :
		       show_text(exp, sizeof exp, member(k, strcmp(state, "revoked")
		                 == 0 ? "revoked_at" : "expires_at")), scope);
		shown++;
	}
	if (shown == 0)
		printf("(no %saccess key%s%s)\n", active_only ? "active " : "",
		       principal ? " of " : "", principal ? principal : "");
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}

int show_decision(const char *case_id, json_t *view)
{
	char id[RG_ID_MAX + 1], status[32], action[48];
	const char *act = member(view, "action");
	show_text(id, sizeof id, member(view, "case_id"));
	printf("%s: %s%s%s%s\n", strcmp(id, "-") ? id : case_id,
	       show_text(status, sizeof status, member(view, "status")),
	       act ? " (" : "", act ? show_text(action, sizeof action, act) : "",
	       act ? ")" : "");
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}

/* A span of seconds in its two largest units: "45s", "42m", "3h05m",
 * "2d04h". */
static const char *show_span(char *buf, size_t cap, int64_t s)
{
	if (s < 60)
		snprintf(buf, cap, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, cap, "%lldm", (long long)(s / 60));
	else if (s < DAY)
		snprintf(buf, cap, "%lldh%02lldm", (long long)(s / 3600),
		         (long long)(s % 3600 / 60));
	else
		snprintf(buf, cap, "%lldd%02lldh", (long long)(s / DAY),
		         (long long)(s % DAY / 3600));
	return buf;
}

/* The time member `name` of o as Unix seconds, or 0. */
static int64_t member_time(json_t *o, const char *name)
{
	int64_t t;
	const char *s = member(o, name);
	return s && rg_time_parse(s, &t) == RG_OK ? t : 0;
}

int show_queue(json_t *ans, int64_t now)
{
	json_t *list = json_object_get(ans, "cases"), *c;
	size_t i;
	if (!json_is_array(list))
		return cli_fail("queue: the gateway's answer has no list");
	printf("%-28s %-10s %-14s %4s %7s  %s\n", "CASE", "STATUS", "DUE",
	       "REFS", "AGE", "CLAIMED BY");
	json_array_foreach(list, i, c) {
		char id[RG_ID_MAX + 1], status[16], due[64], age[48], who[128];
		char name[RG_NAME_MAX + 1], span[48], urg[24];
		int64_t deadline = member_time(c, "deadline_at");
		int64_t opened = member_time(c, "opened_at");
		int64_t claim = member_time(c, "claim_expires_at");
		if (deadline && deadline > now)
			snprintf(due, sizeof due, "!in %s",
			         show_span(span, sizeof span, deadline - now));
		else if (deadline)
			snprintf(due, sizeof due, "!OVERDUE %s",
			         show_span(span, sizeof span, now - deadline));
		else
			show_text(due, sizeof due, show_text(urg, sizeof urg,
			          member(c, "urgency")));
		if (opened)
			show_span(age, sizeof age, now > opened ? now - opened : 0);
		else
			snprintf(age, sizeof age, "-");
		if (member(c, "claimed_by"))
			snprintf(who, sizeof who, "%s (%s left)",
			         show_text(name, sizeof name, member(c, "claimed_by")),
			         claim > now ? show_span(span, sizeof span,
			                                 claim - now) : "0s");
		else
			snprintf(who, sizeof who, "-");
		printf("%-28s %-10s %-14s %4lld %7s  %s\n",
		       show_text(id, sizeof id, member(c, "case_id")),
		       show_text(status, sizeof status, member(c, "status")), due,
		       (long long)json_integer_value(json_object_get(c, "principal_count")),
		       age, who);
	}
	if (json_array_size(list) == 0)
		printf("(the queue is empty)\n");
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}

int show_claim(const char *case_id, json_t *ans, bool released)
{
	char id[RG_ID_MAX + 1], who[RG_NAME_MAX + 1], until[32];
	show_text(id, sizeof id, member(ans, "case_id"));
	if (strcmp(id, "-") == 0)
		snprintf(id, sizeof id, "%s", case_id);
	if (released)
		printf("%s: released\n", id);
	else
		printf("%s: claimed by %s until %s\n", id,
		       show_text(who, sizeof who, member(ans, "claimed_by")),
		       show_text(until, sizeof until, member(ans, "claim_expires_at")));
	return fflush(stdout) == 0 ? CLI_OK : cli_fail("stdout: write error");
}
