/*
 * referral.c - strict validation of the signed referral payload (contract
 * section 2) into struct referral. Every broken rule becomes one problem
 * item with a JSON pointer; the input is never echoed in a reason.
 */
#include "referral.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deepest nesting of arrays and objects accepted; the payload needs 3. */
#define REFERRAL_MAX_DEPTH 8
/* Longest media type (RFC 6838 4.2: 127 bytes per name). */
#define REFERRAL_MEDIA_TYPE_MAX 127

#define PTR_MAX sizeof(((struct problem_item *)0)->pointer)

/* One validation run: where errors go and how many were found. */
struct ctx {
	struct problem_items *errors;
	size_t n_errors;
	int fatal;                  /* RG_ENOMEM, or RG_OK */
	enum rg_role role;
};

/* Handles one member's value; dst is the struct the member fills. */
typedef void (*member_fn)(struct ctx *c, json_t *v, const char *ptr,
			  void *dst);

struct member {
	const char *name;
	bool required;
	member_fn check;
};

static const char *const category_names[] = {
	[CAT_TERRORIST_CONTENT] = "terrorist_content",
	[CAT_VIOLENT_EXTREMISM] = "violent_extremism",
	[CAT_INCITEMENT_TO_VIOLENCE] = "incitement_to_violence",
	[CAT_HATE_SPEECH] = "hate_speech",
	[CAT_OTHER_ILLEGAL] = "other_illegal",
};

static const char *const urgency_names[] = {
	[URG_ROUTINE] = "routine",
	[URG_URGENT] = "urgent",
	[URG_IMMINENT_HARM] = "imminent_harm",
};

#define N_CATEGORIES (sizeof category_names / sizeof category_names[0])
#define N_URGENCIES (sizeof urgency_names / sizeof urgency_names[0])

const char *referral_category_name(enum referral_category c)
{
	if ((unsigned)c >= N_CATEGORIES)
		return "other_illegal";
	return category_names[c];
}

const char *referral_urgency_name(enum referral_urgency u)
{
	if ((unsigned)u >= N_URGENCIES)
		return "routine";
	return urgency_names[u];
}

/* Records one broken rule at pointer ptr. */
static void fail(struct ctx *c, const char *ptr, const char *reason)
{
	c->n_errors++;
	if (c->errors)
		problem_items_add(c->errors, reason, "%s", ptr);
}

/*
 * Writes base + "/" + name, escaped per RFC 6901 (~ as ~0, / as ~1),
 * into out. Returns false, leaving out unspecified, when it does not fit.
 */
static bool ptr_member(char out[PTR_MAX], const char *base, const char *name)
{
	size_t n = strlen(base);
	if (n + 1 >= PTR_MAX)
		return false;
	memcpy(out, base, n);
	out[n++] = '/';
	for (const char *p = name; *p; p++) {
		const char *esc = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
		size_t k = esc ? 2 : 1;
		if (n + k >= PTR_MAX)
			return false;
		if (esc) {
			memcpy(out + n, esc, 2);
		} else {
			out[n] = *p;
		}
		n += k;
	}
	out[n] = '\0';
	return true;
}

/* Writes base + "/" + index into out; base is always short enough. */
static void ptr_index(char out[PTR_MAX], const char *base, size_t i)
{
	snprintf(out, PTR_MAX, "%s/%zu", base, i);
}

/*
 * Checks that the JSON text nests arrays and objects at most max deep,
 * skipping string contents. Runs before the parser so that a hostile
 * payload never drives its recursion.
 */
static bool nesting_ok(const uint8_t *p, size_t len, int max)
{
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];
		if (in_str) {
			if (b == '\\')
				i++;
			else if (b == '"')
				in_str = false;
		} else if (b == '"') {
			in_str = true;
		} else if (b == '[' || b == '{') {
			if (++depth > max)
				return false;
		} else if (b == ']' || b == '}') {
			if (--depth < 0)
				return true;    /* unbalanced: the parser refuses it */
		}
	}
	return true;
}

/*
 * Scans a valid UTF-8 string of len bytes: counts its code points into
 * *chars and tells whether it holds a control character (C0, DEL, C1);
 * newline and tab are allowed when multiline is set. A NUL byte counts
 * as a control character.
 */
static bool text_clean(const char *s, size_t len, bool multiline,
		       size_t *chars)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;
	bool clean = true;
	for (size_t i = 0; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			n++;
		if (u[i] < 0x20 || u[i] == 0x7F) {
			if (!(multiline && (u[i] == '\n' || u[i] == '\t')))
				clean = false;
		} else if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 &&
			   u[i + 1] <= 0x9F) {
			clean = false;  /* U+0080-U+009F */
		}
	}
	*chars = n;
	return clean;
}

/* The string value of v, or NULL after recording "must be a string". */
static const char *want_string(struct ctx *c, json_t *v, const char *ptr,
			       size_t *len)
{
	if (!json_is_string(v)) {
		fail(c, ptr, "must be a string");
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

/*
 * Checks a free-text member: 1-max characters (min_chars 0 allows ""),
 * no control characters. Copies it into out (room for max * 4 + 1 bytes)
 * when out is not NULL. Returns true when valid.
 */
static bool check_text(struct ctx *c, json_t *v, const char *ptr,
		       size_t min_chars, size_t max_chars, bool multiline,
		       const char *length_reason, char *out)
{
	size_t len, chars;
	const char *s = want_string(c, v, ptr, &len);
	if (!s)
		return false;
	bool clean = text_clean(s, len, multiline, &chars);
	if (chars < min_chars || chars > max_chars) {
		fail(c, ptr, length_reason);
		return false;
	}
	if (!clean) {
		fail(c, ptr, "must not contain control characters");
		return false;
	}
	if (out)
		memcpy(out, s, len + 1);
	return true;
}

/* True when s is max or fewer bytes of [A-Za-z0-9_] plus extra, and not
 * empty. */
static bool in_alphabet(const char *s, size_t len, size_t max,
			const char *extra)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' ||
			  (ch != '\0' && strchr(extra, ch));
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Checks an http(s) URL as far as the payload rules go: at most 2048
 * bytes, an http:// or https:// prefix (any case) followed by a host,
 * no spaces or control characters. The platform checks are normalise.c's.
 */
static bool check_url(struct ctx *c, json_t *v, const char *ptr,
		      char out[REFERRAL_URL_MAX + 1])
{
	size_t len;
	const char *s = want_string(c, v, ptr, &len);
	if (!s)
		return false;
	if (len > REFERRAL_URL_MAX) {
		fail(c, ptr, "must be at most 2048 bytes");
		return false;
	}
	size_t skip = strncasecmp(s, "https://", 8) == 0 ? 8 :
		      strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
	if (skip == 0 || s[skip] == '\0' || strchr("/?#", s[skip])) {
		fail(c, ptr, "must be an http or https URL");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];
		if (b <= 0x20 || b == 0x7F) {
			fail(c, ptr, "must not contain spaces or control characters");
			return false;
		}
	}
	memcpy(out, s, len + 1);
	return true;
}

/*
 * Checks a point in time given as integer Unix seconds or an RFC 3339
 * string, neither before 1970. Sets *out when valid.
 */
static void check_time(struct ctx *c, json_t *v, const char *ptr,
		       int64_t *out)
{
	int64_t t;
	if (json_is_integer(v)) {
		t = json_integer_value(v);
		if (t < 0) {
			fail(c, ptr, "must not be negative");
			return;
		}
	} else if (json_is_string(v)) {
		if (rg_time_parse(json_string_value(v), &t) != RG_OK) {
			fail(c, ptr, "must be an RFC 3339 timestamp");
			return;
		}
		if (t < 0) {
			fail(c, ptr, "must not be before 1970");
			return;
		}
	} else {
		fail(c, ptr, "must be an integer or an RFC 3339 string");
		return;
	}
	*out = t;
}

/*
 * Walks the members of object v at ptr: each known member goes to its
 * handler in tab, each unknown one is an error, each missing required
 * one too. Errors come in document order, then the missing members.
 */
static void check_object(struct ctx *c, json_t *v, const char *ptr,
			 const struct member *tab, size_t n, void *dst)
{
	char sub[PTR_MAX];
	const char *key;
	json_t *val;
	if (!json_is_object(v)) {
		fail(c, ptr, "must be an object");
		return;
	}
	json_object_foreach(v, key, val) {
		size_t i = 0;
		while (i < n && strcmp(tab[i].name, key) != 0)
			i++;
		if (!ptr_member(sub, ptr, key)) {
			/* only an unknown name can be this long */
			fail(c, ptr, "has an unknown member with an overlong name");
			continue;
		}
		if (i == n)
			fail(c, sub, "unknown member");
		else
			tab[i].check(c, val, sub, dst);
	}
	for (size_t i = 0; i < n; i++) {
		if (tab[i].required && !json_object_get(v, tab[i].name) &&
		    ptr_member(sub, ptr, tab[i].name))
			fail(c, sub, "is required");
	}
}

/*
 * Walks the array v at ptr: min_n to max_n items, each checked by
 * item(). Every item is checked; only the first max_n are stored, at
 * dst + i * size. Sets *count when the length is valid.
 */
static void check_array(struct ctx *c, json_t *v, const char *ptr,
			size_t min_n, size_t max_n, const char *length_reason,
			member_fn item, void *dst, size_t size, void *scratch,
			size_t *count)
{
	char sub[PTR_MAX];
	if (!json_is_array(v)) {
		fail(c, ptr, "must be an array");
		return;
	}
	size_t n = json_array_size(v);
	if (n < min_n || n > max_n)
		fail(c, ptr, length_reason);
	else
		*count = n;
	for (size_t i = 0; i < n; i++) {
		ptr_index(sub, ptr, i);
		void *slot = i < max_n ? (char *)dst + i * size : scratch;
		memset(slot, 0, size);   /* referral_new left it unset */
		item(c, json_array_get(v, i), sub, slot);
	}
}

/* --- subjects --- */

/* "account_id": 1-20 decimal digits, as a string. */
static void subject_account_id(struct ctx *c, json_t *v, const char *ptr,
			       void *dst)
{
	struct referral_subject *s = dst;
	size_t len;
	const char *t = want_string(c, v, ptr, &len);
	if (!t)
		return;
	bool digits = len > 0 && len <= REFERRAL_ACCOUNT_ID_MAX &&
		      strspn(t, "0123456789") == len;
	if (!digits) {
		fail(c, ptr, "must be 1-20 decimal digits");
		return;
	}
	memcpy(s->account_id, t, len + 1);
}

/* "handle": one optional '@', then 1-50 of [A-Za-z0-9_]. */
static void subject_handle(struct ctx *c, json_t *v, const char *ptr,
			   void *dst)
{
	struct referral_subject *s = dst;
	size_t len;
	const char *t = want_string(c, v, ptr, &len);
	if (!t)
		return;
	size_t at = t[0] == '@';
	if (!in_alphabet(t + at, len - at, REFERRAL_HANDLE_MAX, "")) {
		fail(c, ptr, "must be 1-50 letters, digits or _, "
		     "optionally after one @");
		return;
	}
	memcpy(s->handle, t, len + 1);
}

/* "url": an http(s) URL; normalise.c checks that it is the platform's. */
static void subject_url(struct ctx *c, json_t *v, const char *ptr,
			void *dst)
{
	struct referral_subject *s = dst;
	check_url(c, v, ptr, s->url);
}

static const struct member subject_members[] = {
	{"account_id", false, subject_account_id},
	{"handle", false, subject_handle},
	{"url", false, subject_url},
};

/* One item of "subjects": an object naming an account one or more ways. */
static void check_subject(struct ctx *c, json_t *v, const char *ptr,
			  void *dst)
{
	check_object(c, v, ptr, subject_members,
		     sizeof subject_members / sizeof subject_members[0], dst);
	if (json_is_object(v) && !json_object_get(v, "account_id") &&
	    !json_object_get(v, "handle") && !json_object_get(v, "url"))
		fail(c, ptr, "needs an account_id, a handle or a url");
}

/* --- evidence --- */

/* "url" of evidence: any http(s) URL. */
static void evidence_url(struct ctx *c, json_t *v, const char *ptr,
			 void *dst)
{
	struct referral_evidence *e = dst;
	check_url(c, v, ptr, e->url);
}

/* "sha256": 64 lowercase hex digits. */
static void evidence_sha256(struct ctx *c, json_t *v, const char *ptr,
			    void *dst)
{
	struct referral_evidence *e = dst;
	size_t len;
	const char *t = want_string(c, v, ptr, &len);
	if (!t)
		return;
	if (len != 64 || strspn(t, "0123456789abcdef") != 64) {
		fail(c, ptr, "must be 64 lowercase hex digits");
		return;
	}
	memcpy(e->sha256, t, 65);
}

/* True for the token characters of RFC 9110 5.6.2. */
static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/* "media_type": type "/" subtype, both tokens, no parameters. */
static void evidence_media_type(struct ctx *c, json_t *v, const char *ptr,
				void *dst)
{
	struct referral_evidence *e = dst;
	size_t len;
	const char *t = want_string(c, v, ptr, &len);
	if (!t)
		return;
	if (len > REFERRAL_MEDIA_TYPE_MAX) {
		fail(c, ptr, "must be at most 127 bytes");
		return;
	}
	size_t type = 0;
	while (type < len && is_tchar(t[type]))
		type++;
	size_t sub = type + 1;
	while (sub < len && is_tchar(t[sub]))
		sub++;
	if (type == 0 || type >= len || t[type] != '/' || sub != len ||
	    sub == type + 1) {
		fail(c, ptr, "must be a media type (type/subtype)");
		return;
	}
	memcpy(e->media_type, t, len + 1);
}

/* "captured_at": Unix seconds or RFC 3339. */
static void evidence_captured_at(struct ctx *c, json_t *v, const char *ptr,
				 void *dst)
{
	struct referral_evidence *e = dst;
	check_time(c, v, ptr, &e->captured_at);
}

static const struct member evidence_members[] = {
	{"url", true, evidence_url},
	{"sha256", true, evidence_sha256},
	{"media_type", false, evidence_media_type},
	{"captured_at", false, evidence_captured_at},
};

/* One item of "evidence": a captured URL and its hash. */
static void check_evidence(struct ctx *c, json_t *v, const char *ptr,
			   void *dst)
{
	check_object(c, v, ptr, evidence_members,
		     sizeof evidence_members / sizeof evidence_members[0], dst);
}

/* --- removal order --- */

/* "reference": the agency's reference, 1-128 characters. */
static void order_reference(struct ctx *c, json_t *v, const char *ptr,
			    void *dst)
{
	struct referral_removal_order *o = dst;
	check_text(c, v, ptr, 1, REFERRAL_REFERENCE_MAX, false,
		   "must be 1-128 characters", o->reference);
}

/* "issued_at": when the order was issued. */
static void order_issued_at(struct ctx *c, json_t *v, const char *ptr,
			    void *dst)
{
	struct referral_removal_order *o = dst;
	check_time(c, v, ptr, &o->issued_at);
}

/* "legal_basis": the law the order rests on, 1-500 characters (contract
 * section 9). */
static void order_legal_basis(struct ctx *c, json_t *v, const char *ptr,
			      void *dst)
{
	struct referral_removal_order *o = dst;
	check_text(c, v, ptr, 1, REFERRAL_TEXT_MAX, false,
		   "must be 1-500 characters", o->legal_basis);
}

/* "issuing_authority": the authority's name, 1-200 characters. */
static void order_authority(struct ctx *c, json_t *v, const char *ptr,
			    void *dst)
{
	struct referral_removal_order *o = dst;
	check_text(c, v, ptr, 1, REFERRAL_AUTHORITY_MAX, false,
		   "must be 1-200 characters", o->issuing_authority);
}

/* "withhold_notice_until": a time; its bound against issued_at is
 * checked once both are read (top_removal_order). */
static void order_withhold(struct ctx *c, json_t *v, const char *ptr,
			   void *dst)
{
	struct referral_removal_order *o = dst;
	check_time(c, v, ptr, &o->withhold_notice_until);
}

static const struct member order_members[] = {
	{"reference", true, order_reference},
	{"issued_at", true, order_issued_at},
	{"legal_basis", true, order_legal_basis},
	{"issuing_authority", false, order_authority},
	{"withhold_notice_until", false, order_withhold},
};

/* --- top level --- */

/* "jti": 16-64 of [A-Za-z0-9_-]; uniqueness is the caller's check. */
static void top_jti(struct ctx *c, json_t *v, const char *ptr, void *dst)
{
	struct referral *r = dst;
	size_t len;
	const char *t = want_string(c, v, ptr, &len);
	if (!t)
		return;
	if (len < REFERRAL_JTI_MIN || len > REFERRAL_JTI_MAX) {
		fail(c, ptr, "must be 16-64 characters");
		return;
	}
	if (!in_alphabet(t, len, REFERRAL_JTI_MAX, "-")) {
		fail(c, ptr, "must contain only letters, digits, _ and -");
		return;
	}
	memcpy(r->jti, t, len + 1);
}

/* "iat": a JSON integer >= 0; the skew is the caller's check. */
static void top_iat(struct ctx *c, json_t *v, const char *ptr, void *dst)
{
	struct referral *r = dst;
	if (!json_is_integer(v)) {
		fail(c, ptr, "must be an integer");
		return;
	}
	if (json_integer_value(v) < 0) {
		fail(c, ptr, "must not be negative");
		return;
	}
	r->iat = json_integer_value(v);
}

/* "partner_ref": 1-128 printable characters. */
static void top_partner_ref(struct ctx *c, json_t *v, const char *ptr,
			    void *dst)
{
	struct referral *r = dst;
	r->has_partner_ref = check_text(c, v, ptr, 1, REFERRAL_PARTNER_REF_MAX,
					false, "must be 1-128 characters",
					r->partner_ref);
}

/* Looks the string v up in names; returns its index or -1 after an
 * error with reason. */
static int check_enum(struct ctx *c, json_t *v, const char *ptr,
		      const char *const *names, size_t n, const char *reason)
{
	size_t len;
	const char *t = want_string(c, v, ptr, &len);
	if (!t)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t, names[i]) == 0)
			return (int)i;
	fail(c, ptr, reason);
	return -1;
}

/* "category": one of the five category names. */
static void top_category(struct ctx *c, json_t *v, const char *ptr,
			 void *dst)
{
	struct referral *r = dst;
	int i = check_enum(c, v, ptr, category_names, N_CATEGORIES,
			   "must be one of terrorist_content, violent_extremism, "
			   "incitement_to_violence, hate_speech, other_illegal");
	if (i >= 0)
		r->category = (enum referral_category)i;
}

/* "urgency": routine (the default), urgent or imminent_harm. */
static void top_urgency(struct ctx *c, json_t *v, const char *ptr,
			void *dst)
{
	struct referral *r = dst;
	int i = check_enum(c, v, ptr, urgency_names, N_URGENCIES,
			   "must be one of routine, urgent, imminent_harm");
	if (i >= 0)
		r->urgency = (enum referral_urgency)i;
}

/* "subjects": 1-100 accounts. */
static void top_subjects(struct ctx *c, json_t *v, const char *ptr,
			 void *dst)
{
	struct referral *r = dst;
	struct referral_subject scratch;
	check_array(c, v, ptr, 1, REFERRAL_MAX_SUBJECTS,
		    "must have 1-100 items", check_subject, r->subjects,
		    sizeof r->subjects[0], &scratch, &r->n_subjects);
}

/* "evidence": 0-20 items. */
static void top_evidence(struct ctx *c, json_t *v, const char *ptr,
			 void *dst)
{
	struct referral *r = dst;
	struct referral_evidence scratch;
	check_array(c, v, ptr, 0, REFERRAL_MAX_EVIDENCE,
		    "must have at most 20 items", check_evidence, r->evidence,
		    sizeof r->evidence[0], &scratch, &r->n_evidence);
}

/* "summary": at most 4000 characters; newline and tab allowed. */
static void top_summary(struct ctx *c, json_t *v, const char *ptr,
			void *dst)
{
	struct referral *r = dst;
	if (!check_text(c, v, ptr, 0, REFERRAL_SUMMARY_MAX, true,
			"must be at most 4000 characters", NULL))
		return;
	free(r->summary);
	r->summary = strdup(json_string_value(v));
	if (!r->summary)
		c->fatal = RG_ENOMEM;
}

/* "removal_order": agencies only; all three members required. */
static void top_removal_order(struct ctx *c, json_t *v, const char *ptr,
			      void *dst)
{
	struct referral *r = dst;
	size_t errors_before = c->n_errors;
	if (c->role != ROLE_AGENCY) {
		fail(c, ptr, "only agencies may send removal orders");
		return;
	}
	check_object(c, v, ptr, order_members,
		     sizeof order_members / sizeof order_members[0],
		     &r->removal_order);
	const struct referral_removal_order *o = &r->removal_order;
	if (c->n_errors == errors_before && o->withhold_notice_until &&
	    (o->withhold_notice_until <= o->issued_at ||
	     o->withhold_notice_until - o->issued_at >
	     REFERRAL_WITHHOLD_MAX_SECONDS)) {
		char p[PTR_MAX];
		if (ptr_member(p, ptr, "withhold_notice_until"))
			fail(c, p, "must be after issued_at and at most 6 "
			     "weeks after it");
	}
	r->has_removal_order = c->n_errors == errors_before;
}

static const struct member referral_members[] = {
	{"jti", true, top_jti},
	{"iat", true, top_iat},
	{"partner_ref", false, top_partner_ref},
	{"category", true, top_category},
	{"urgency", false, top_urgency},
	{"subjects", true, top_subjects},
	{"evidence", false, top_evidence},
	{"summary", false, top_summary},
	{"removal_order", false, top_removal_order},
};

void referral_free(struct referral *r)
{
	if (!r)
		return;
	free(r->summary);
	free(r);
}

/* A referral with every member zero but the subject and evidence slots
 * (about 250 KiB, nearly all unused): check_array zeroes each slot it
 * fills, and nothing reads a slot past n_subjects or n_evidence. Saves
 * clearing the whole of it on every submission. */
static struct referral *referral_new(void)
{
	struct referral *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	memset(r, 0, offsetof(struct referral, subjects));
	r->n_evidence = 0;
	memset(&r->summary, 0, sizeof *r - offsetof(struct referral, summary));
	return r;
}

/* The reason for a payload jansson refused as a whole. */
static const char *load_reason(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_duplicate_key:
		return "duplicate member name";
	case json_error_numeric_overflow:
		return "number out of range";
	default:
		return "payload is not valid JSON";
	}
}

int referral_parse(const uint8_t *json, size_t len, enum rg_role role,
		   struct referral **out, struct problem_items *errors)
{
	struct ctx c = {.errors = errors, .role = role};
	struct referral *r = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int rc = RG_EINVAL;

	if (!json || len == 0) {
		fail(&c, "", "payload is not valid JSON");
		goto out;
	}
	if (!nesting_ok(json, len, REFERRAL_MAX_DEPTH)) {
		fail(&c, "", "payload is nested too deeply");
		goto out;
	}
	/* No JSON_DISABLE_EOF_CHECK: the whole input must be one value. */
	root = json_loadb((const char *)json, len,
			  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		fail(&c, "", load_reason(&jerr));
		goto out;
	}
	if (!json_is_object(root)) {
		fail(&c, "", "payload must be a JSON object");
		goto out;
	}
	r = referral_new();
	if (!r) {
		rc = RG_ENOMEM;
		goto out;
	}
	check_object(&c, root, "", referral_members,
		     sizeof referral_members / sizeof referral_members[0], r);
	if (c.fatal != RG_OK) {
		rc = c.fatal;
		goto out;
	}
	if (c.n_errors > 0)
		goto out;
	*out = r;
	r = NULL;
	rc = RG_OK;
out:
	referral_free(r);
	json_decref(root);
	return rc;
}
