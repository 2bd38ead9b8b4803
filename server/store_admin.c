/*
 * store_admin.c - what the legal team administers in the store: the
 * principals with their certificates and signing keys, the hash-chained
 * audit log, and the gateway's signatures over its heads. Runs on the
 * connections and the writer of store.c.
 */
#include "store_int.h"
#include "../proto/audit_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* ---- audit ---------------------------------------------------------- */

int st_audit_add(struct txn *t, int64_t at, const char *actor,
                 const char *kind, const char *object, const char *detail)
{
	uint8_t prev[32] = { 0 }, hash[32];
	int64_t seq = 1;
	struct q q = { 0 };
	int rc = sq_open(&q, t->c,
	                 "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		seq = sq_col_i64(&q, 0) + 1;
		rc = sq_col_32(&q, 1, prev);
	}
	sq_close(&q);
	if (rc < 0)
		return rc;
	rc = audit_record_hash(seq, at, actor, kind, object, detail, prev, hash);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, t->c,
	             "INSERT INTO audit (seq, at, actor, kind, object, detail,"
	             " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, seq);
	sq_i64(&q, 2, at);
	sq_text(&q, 3, actor);
	sq_text(&q, 4, kind);
	sq_text(&q, 5, object);
	sq_text(&q, 6, detail);
	sq_blob(&q, 7, prev, 32);
	sq_blob(&q, 8, hash, 32);
	rc = sq_exec(&q);
out:
	sq_close(&q);
	return rc;
}

int st_audit_add_json(struct txn *t, int64_t at, const char *actor,
                      const char *kind, const char *object, json_t *d)
{
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER)
	               : NULL;
	int rc = text ? st_audit_add(t, at, actor, kind, object, text)
	              : RG_ENOMEM;
	free(text);
	json_decref(d);
	return rc;
}

struct audit_job {
	const char *actor, *kind, *object, *detail;
	int64_t now;
};

static int audit_job_run(struct txn *t, void *arg)
{
	struct audit_job *a = arg;
	return st_audit_add(t, a->now, a->actor, a->kind, a->object,
	                    a->detail);
}

int store_audit_append(struct store *st, const char *actor, const char *kind,
                       const char *object, const char *detail, int64_t now)
{
	struct audit_job a = { actor, kind, object, detail, now };
	if (!st || !actor || !*actor || !kind || !*kind || !object || !detail ||
	    strlen(detail) > AUDIT_RECORD_STR_MAX)
		return RG_EINVAL;
	json_t *j = json_loads(detail, JSON_REJECT_DUPLICATES, NULL);
	bool ok = j && json_is_object(j);
	json_decref(j);
	if (!ok)
		return RG_EINVAL;
	return st_write(st, audit_job_run, &a);
}

int store_audit_each(struct store *st, int64_t since, size_t limit,
                     int (*cb)(void *ctx, const struct store_audit *a),
                     void *ctx, int64_t *last)
{
	struct conn *c;
	struct q q = { 0 };
	int64_t seen = since;
	if (!st || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "SELECT seq, at, actor, kind, object, detail, prev_hash,"
	             " hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, since);
	sq_i64(&q, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_audit a = {
			.seq = sq_col_i64(&q, 0),
			.at = sq_col_i64(&q, 1),
			.actor = sq_col_text(&q, 2),
			.kind = sq_col_text(&q, 3),
			.object = sq_col_text(&q, 4),
			.detail = sq_col_text(&q, 5),
		};
		if (!a.actor || !a.kind || !a.object || !a.detail ||
		    sq_col_32(&q, 6, a.prev_hash) != RG_OK ||
		    sq_col_32(&q, 7, a.hash) != RG_OK) {
			rc = RG_EIO;
			goto out;
		}
		seen = a.seq;
		if ((rc = cb(ctx, &a)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	if (rc == SQ_DONE)
		rc = RG_OK;
	if (last)
		*last = seen;
	return rc;
}


/* ---- signed audit heads -------------------------------------------- */

int store_audit_head(struct store *st, int64_t *seq, uint8_t hash[32])
{
	struct conn *c;
	struct q q = { 0 };
	uint8_t h[32] = { 0 };
	int64_t s = 0;
	if (!st || !seq || !hash)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT seq, hash FROM audit"
	                    " ORDER BY seq DESC LIMIT 1");
	if (rc != RG_OK)
		goto out;
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		s = sq_col_i64(&q, 0);
		rc = sq_col_32(&q, 1, h);
	}
out:
	sq_close(&q);
	if (rc == SQ_DONE)
		rc = RG_OK;
	if (rc == RG_OK) {
		*seq = s;
		memcpy(hash, h, 32);
	}
	return rc;
}

struct head_job {
	int64_t seq, at;
	const uint8_t *hash, *sig;
};

/* The head must be a row of the log with that very hash: a signature
 * over anything else would vouch for a log that never was. A head signed
 * already keeps its first signature (a signer restarting re-signs the same
 * head). */
static int head_sign_run(struct txn *t, void *arg)
{
	const struct head_job *h = arg;
	uint8_t row[32];
	bool signed_before = false;
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "SELECT a.hash, EXISTS (SELECT 1"
	                           " FROM audit_heads s WHERE s.seq = a.seq)"
	                           " FROM audit a WHERE a.seq = ?1");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, h->seq);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
	} else if (rc == SQ_ROW && (rc = sq_col_32(&q, 0, row)) == RG_OK) {
		signed_before = sq_col_int(&q, 1) != 0;
		if (memcmp(row, h->hash, 32) != 0)
			rc = RG_ECONFLICT;
	}
	sq_close(&q);
	if (rc != RG_OK || signed_before)
		goto out;
	rc = sq_open(&q, t->c, "INSERT INTO audit_heads (seq, at, hash, sig)"
	                       " VALUES (?1, ?2, ?3, ?4)");
	if (rc != RG_OK)
		goto out;
	sq_i64(&q, 1, h->seq);
	sq_i64(&q, 2, h->at);
	sq_blob(&q, 3, h->hash, 32);
	sq_blob(&q, 4, h->sig, 64);
	rc = sq_exec(&q);
out:
	sq_close(&q);
	return rc;
}

/* RG_ENOTFOUND when no audit row has that seq, RG_ECONFLICT when its hash
 * is another; RG_OK, nothing written, when that head is signed already. */
int store_audit_head_sign(struct store *st, int64_t seq, const uint8_t hash[32],
                          int64_t at, const uint8_t sig[64])
{
	struct head_job h = { .seq = seq, .at = at, .hash = hash, .sig = sig };
	if (!st || !hash || !sig || seq < 1)
		return RG_EINVAL;
	return st_write(st, head_sign_run, &h);
}

int store_audit_heads_each(struct store *st,
                           int (*cb)(void *ctx,
                                     const struct store_audit_signature *h),
                           void *ctx)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, "SELECT seq, at, hash, sig FROM audit_heads"
	                    " ORDER BY seq");
	if (rc != RG_OK)
		goto out;
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_audit_signature h = {
			.seq = sq_col_i64(&q, 0),
			.at = sq_col_i64(&q, 1),
		};
		size_t sig_len = 0;
		const void *sig = sq_col_blob(&q, 3, &sig_len);
		if ((rc = sq_col_32(&q, 2, h.hash)) != RG_OK)
			goto out;
		if (!sig || sig_len != 64) {
			rc = RG_EIO;
			goto out;
		}
		memcpy(h.sig, sig, 64);
		if ((rc = cb(ctx, &h)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}

/* ---- principals ----------------------------------------------------- */

static const char principal_by_spki_sql[] =
	"SELECT p.name, p.role, p.created_at, p.revoked_at"
	" FROM certs c JOIN principals p ON p.name = c.principal"
	" WHERE c.spki = ?1 AND c.revoked_at = 0 AND c.not_after > ?2"
	" AND p.revoked_at = 0";

int store_principal_by_spki(struct store *st, const uint8_t spki_sha256[32],
                            int64_t now, struct store_principal *out)
{
	struct conn *c;
	struct q q = { 0 };
	struct store_principal p = { 0 };
	if (!st || !spki_sha256 || !out)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, principal_by_spki_sql);
	if (rc != RG_OK)
		goto out;
	sq_blob(&q, 1, spki_sha256, 32);
	sq_i64(&q, 2, now);
	rc = sq_step(&q);
	if (rc == SQ_DONE) {
		rc = RG_ENOTFOUND;
	} else if (rc == SQ_ROW) {
		p.role = (enum rg_role)sq_col_int(&q, 1);
		p.created_at = sq_col_i64(&q, 2);
		p.revoked_at = sq_col_i64(&q, 3);
		rc = sq_col_str(&q, 0, p.name, sizeof p.name);
	}
out:
	sq_close(&q);
	if (rc == RG_OK)
		*out = p;
	return rc;
}

static const char key_get_sql[] =
	"SELECT k.principal, k.pk FROM signing_keys k"
	" JOIN principals p ON p.name = k.principal"
	" WHERE k.kid = ?1 AND k.revoked_at = 0 AND p.revoked_at = 0";

int store_signing_key_get(struct store *st, const char *kid,
                          char owner[RG_NAME_MAX + 1], uint8_t pk[32])
{
	struct conn *c;
	struct q q = { 0 };
	char name[RG_NAME_MAX + 1];
	uint8_t key[32];
	if (!st || !owner || !pk)
		return RG_EINVAL;
	if (!rg_kid_valid(kid))
		return RG_ENOTFOUND;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c, key_get_sql);
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, kid);
	rc = sq_step(&q);
	if (rc == SQ_DONE)
		rc = RG_ENOTFOUND;
	else if (rc == SQ_ROW && (rc = sq_col_str(&q, 0, name, sizeof name)) ==
	         RG_OK)
		rc = sq_col_32(&q, 1, key);
out:
	sq_close(&q);
	if (rc == RG_OK) {
		memcpy(owner, name, sizeof name);
		memcpy(pk, key, sizeof key);
	}
	return rc;
}

struct enrol_job {
	const char *actor, *name;
	enum rg_role role;
	const struct store_cert_in *certs;
	size_t n_certs;
	const struct store_key_in *keys;
	size_t n_keys;
	int64_t now;
};

/* RG_OK when the row the statement selects exists, RG_ENOTFOUND if not. */
static int exists_1(struct conn *c, const char *sql, const void *key,
                    size_t key_len, bool blob)
{
	struct q q = { 0 };
	int rc = sq_open(&q, c, sql);
	if (rc == RG_OK) {
		if (blob)
			sq_blob(&q, 1, key, key_len);
		else
			sq_text(&q, 1, key);
		rc = sq_step(&q);
		rc = rc == SQ_ROW ? RG_OK : rc == SQ_DONE ? RG_ENOTFOUND : rc;
	}
	sq_close(&q);
	return rc;
}

/* The principal row: creates it, or checks the existing one may take
 * more credentials (active, same role). */
static int enrol_principal(struct txn *t, const struct enrol_job *e)
{
	struct q q = { 0 };
	int rc = sq_open(&q, t->c, "SELECT role, revoked_at FROM principals"
	                           " WHERE name = ?1");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, e->name);
	rc = sq_step(&q);
	if (rc == SQ_ROW) {
		bool same = sq_col_int(&q, 0) == (int)e->role &&
		            sq_col_i64(&q, 1) == 0;
		rc = same ? RG_OK : RG_ECONFLICT;
		goto out;
	}
	if (rc != SQ_DONE)
		goto out;
	sq_close(&q);
	rc = sq_open(&q, t->c, "INSERT INTO principals (name, role, created_at)"
	                       " VALUES (?1, ?2, ?3)");
	if (rc != RG_OK)
		goto out;
	sq_text(&q, 1, e->name);
	sq_i64(&q, 2, e->role);
	sq_i64(&q, 3, e->now);
	rc = sq_exec(&q);
out:
	sq_close(&q);
	return rc;
}

static int enrol_cert(struct txn *t, const struct enrol_job *e,
                      const struct store_cert_in *ci)
{
	struct q q = { 0 };
	int rc = exists_1(t->c, "SELECT 1 FROM certs WHERE spki = ?1",
	                  ci->spki_sha256, 32, true);
	if (rc != RG_ENOTFOUND)
		return rc == RG_OK ? RG_EEXIST : rc;
	rc = sq_open(&q, t->c, "INSERT INTO certs (spki, principal, pem,"
	                       " not_after, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (rc == RG_OK) {
		sq_blob(&q, 1, ci->spki_sha256, 32);
		sq_text(&q, 2, e->name);
		sq_text(&q, 3, ci->pem);
		sq_i64(&q, 4, ci->not_after);
		sq_i64(&q, 5, e->now);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

static int enrol_key(struct txn *t, const struct enrol_job *e,
                     const struct store_key_in *ki)
{
	struct q q = { 0 };
	int rc = exists_1(t->c, "SELECT 1 FROM signing_keys WHERE kid = ?1",
	                  ki->kid, 0, false);
	if (rc != RG_ENOTFOUND)
		return rc == RG_OK ? RG_EEXIST : rc;
	rc = sq_open(&q, t->c, "INSERT INTO signing_keys (kid, principal, pk,"
	                       " created_at) VALUES (?1, ?2, ?3, ?4)");
	if (rc == RG_OK) {
		sq_text(&q, 1, ki->kid);
		sq_text(&q, 2, e->name);
		sq_blob(&q, 3, ki->pk, 32);
		sq_i64(&q, 4, e->now);
		rc = sq_exec(&q);
	}
	sq_close(&q);
	return rc;
}

/* Audit detail of an enrolment: role, certificate hashes (hex) and kids. */
static json_t *enrol_detail(const struct enrol_job *e)
{
	json_t *d = json_object(), *certs = json_array(), *keys = json_array();
	char hex[65];
	bool ok = d && certs && keys &&
	          json_object_set_new(d, "role",
	                              json_string(rg_role_name(e->role))) == 0;
	for (size_t i = 0; ok && i < e->n_certs; i++) {
		sodium_bin2hex(hex, sizeof hex, e->certs[i].spki_sha256, 32);
		ok = json_array_append_new(certs, json_string(hex)) == 0;
	}
	for (size_t i = 0; ok && i < e->n_keys; i++)
		ok = json_array_append_new(keys,
		                           json_string(e->keys[i].kid)) == 0;
	if (ok && json_object_set(d, "certs", certs) == 0 &&
	    json_object_set(d, "keys", keys) == 0) {
		json_decref(certs);
		json_decref(keys);
		return d;
	}
	json_decref(certs);
	json_decref(keys);
	json_decref(d);
	return NULL;
}

static int enrol_run(struct txn *t, void *arg)
{
	const struct enrol_job *e = arg;
	int rc = enrol_principal(t, e);
	for (size_t i = 0; rc == RG_OK && i < e->n_certs; i++)
		rc = enrol_cert(t, e, &e->certs[i]);
	for (size_t i = 0; rc == RG_OK && i < e->n_keys; i++)
		rc = enrol_key(t, e, &e->keys[i]);
	if (rc == RG_OK)
		rc = st_audit_add_json(t, e->now, e->actor, "enrol", e->name,
		                       enrol_detail(e));
	return rc;
}

int store_principal_enrol(struct store *st, const char *actor,
                          const char *name, enum rg_role role,
                          const struct store_cert_in *certs, size_t n_certs,
                          const struct store_key_in *keys, size_t n_keys,
                          int64_t now)
{
	struct enrol_job e = { actor, name, role, certs, n_certs, keys,
	                       n_keys, now };
	if (!st || !actor || !*actor || !rg_name_valid(name) ||
	    !rg_role_name(role) || (n_certs && !certs) || (n_keys && !keys))
		return RG_EINVAL;
	for (size_t i = 0; i < n_certs; i++)
		if (!certs[i].pem)
			return RG_EINVAL;
	for (size_t i = 0; i < n_keys; i++)
		if (!rg_kid_valid(keys[i].kid))
			return RG_EINVAL;
	return st_write(st, enrol_run, &e);
}

struct revoke_job {
	const char *actor, *name;
	int64_t now;
};

static const char *const revoke_sql[] = {
	"UPDATE certs SET revoked_at = ?2 WHERE principal = ?1"
	" AND revoked_at = 0",
	"UPDATE signing_keys SET revoked_at = ?2 WHERE principal = ?1"
	" AND revoked_at = 0",
	"UPDATE principals SET revoked_at = ?2 WHERE name = ?1"
	" AND revoked_at = 0",
};

static int revoke_run(struct txn *t, void *arg)
{
	const struct revoke_job *r = arg;
	int counts[3] = { 0 };
	int rc = RG_OK;
	for (size_t i = 0; rc == RG_OK && i < 3; i++) {
		struct q q = { 0 };
		rc = sq_open(&q, t->c, revoke_sql[i]);
		if (rc == RG_OK) {
			sq_text(&q, 1, r->name);
			sq_i64(&q, 2, r->now);
			rc = sq_exec(&q);
		}
		counts[i] = (int)sq_changes(&q);
		sq_close(&q);
	}
	if (rc != RG_OK)
		return rc;
	if (counts[2] != 1)
		return RG_ENOTFOUND;    /* unknown or already revoked */
	return st_audit_add_json(t, r->now, r->actor, "revoke", r->name,
	                         json_pack("{s:i, s:i}", "certs", counts[0],
	                                   "keys", counts[1]));
}

int store_principal_revoke(struct store *st, const char *actor,
                           const char *name, int64_t now)
{
	struct revoke_job r = { actor, name, now };
	if (!st || !actor || !*actor || !name)
		return RG_EINVAL;
	if (!rg_name_valid(name))
		return RG_ENOTFOUND;
	return st_write(st, revoke_run, &r);
}

int store_principals_each(struct store *st,
                          int (*cb)(void *ctx, const struct store_principal *p),
                          void *ctx)
{
	struct conn *c;
	struct q q = { 0 };
	if (!st || !cb)
		return RG_EINVAL;
	int rc = st_reader(st, &c);
	if (rc != RG_OK)
		return rc;
	rc = sq_open(&q, c,
	             "SELECT p.name, p.role, p.created_at, p.revoked_at,"
	             " (SELECT COUNT(*) FROM certs c WHERE c.principal = p.name"
	             "  AND c.revoked_at = 0),"
	             " (SELECT COUNT(*) FROM signing_keys k"
	             "  WHERE k.principal = p.name AND k.revoked_at = 0),"
	             " (SELECT COALESCE(MAX(c.not_after), 0) FROM certs c"
	             "  WHERE c.principal = p.name AND c.revoked_at = 0)"
	             " FROM principals p ORDER BY p.name");
	if (rc != RG_OK)
		goto out;
	while ((rc = sq_step(&q)) == SQ_ROW) {
		struct store_principal p = {
			.role = (enum rg_role)sq_col_int(&q, 1),
			.created_at = sq_col_i64(&q, 2),
			.revoked_at = sq_col_i64(&q, 3),
			.n_certs = (size_t)sq_col_i64(&q, 4),
			.n_keys = (size_t)sq_col_i64(&q, 5),
			.cert_expires_at = sq_col_i64(&q, 6),
		};
		if ((rc = sq_col_str(&q, 0, p.name, sizeof p.name)) != RG_OK)
			goto out;
		if ((rc = cb(ctx, &p)) != 0)
			goto out;
	}
out:
	sq_close(&q);
	return rc == SQ_DONE ? RG_OK : rc;
}
