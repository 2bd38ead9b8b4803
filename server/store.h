/*
 * store.h - refgate's storage interface: the only module with SQL, over
 * a driver per engine (db.h): SQLite in WAL mode, synchronous=FULL, or
 * PostgreSQL. Reads use one connection per
 * calling thread (made on first use, prepared statements kept). Every write
 * goes through one writer thread that commits concurrent requests together
 * (group commit: one fsync serves several) and returns to each caller only
 * after its transaction is durable; a referral may instead be handed over
 * without waiting (store_referral_submit_async), its outcome delivered
 * after the commit. A referral, the cases it touches, its
 * change-feed entries and its audit record commit together or not at all.
 *
 * All functions are thread-safe. Strings in the structs handed to callbacks
 * live only during the callback.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include "../proto/rg.h"
#include "../proto/referral.h"

struct store;

struct store_opts {
	int busy_timeout_ms;        /* 0: 5000 */
	int64_t max_page_count;     /* 0: SQLite's default (no cap) */
	int batch_max;              /* referrals per group commit, 0: 64 */
	bool read_only;             /* see store_open */
	int connect_timeout_s;      /* PostgreSQL, 0: libpq's default */
	int statement_timeout_s;    /* PostgreSQL: a statement running (or
	                             * waiting for a lock) longer fails
	                             * RG_EIO; 0: no limit */
};

/* Opens (creating file and schema if needed) the database at path and
 * starts the writer thread. path is a SQLite file, or a postgresql://
 * URI (libpq's), which may be shared by several gateway processes: then
 * their writes are serial across processes, and a commit of any of them
 * calls the commit hook of every one. opts may be NULL.
 * With opts->read_only, opens an existing database of this build's
 * schema version for reading only, beside a gateway that may be writing
 * it: a SQLite file is opened read-only (it may be mode 0400), a
 * PostgreSQL session is made read-only (default_transaction_read_only);
 * nothing is created or migrated, no writer starts, and every write
 * function answers RG_EINVAL with nothing written. */
int store_open(const char *path, const struct store_opts *opts,
               struct store **out);
/* Stops the writer (after draining queued writes) and closes everything,
 * the reader connections of threads still alive included: call it once no
 * other thread uses the store (or exits after having used it).
 * store_free(NULL) is a no-op. */
void store_free(struct store *st);

/* Called by the writer thread after each durable commit that changed a
 * case (long polls wake on it). Must not block, nor write to the store.
 * When this returns, the previous hook is not running and will not be
 * called again (so its ctx may be freed). */
void store_set_commit_hook(struct store *st, void (*hook)(void *ctx),
                           void *ctx);

/* ---- principals ---------------------------------------------------- */

struct store_principal {
	char name[RG_NAME_MAX + 1];
	enum rg_role role;
	int64_t created_at;
	int64_t revoked_at;          /* 0 while active */
	size_t n_certs;              /* active certificates (listing only) */
	size_t n_keys;               /* active signing keys (listing only) */
	int64_t cert_expires_at;     /* the latest notAfter of its active
	                                certificates, 0 when none (listing only) */
	bool trusted_flagger;        /* its notices are a trusted flagger's
	                                (listing only) */
};

struct store_cert_in {
	uint8_t spki_sha256[32];
	const char *pem;
	int64_t not_after;
};

struct store_key_in {
	char kid[RG_KID_MAX + 1];
	uint8_t pk[32];
};

/* The active principal owning the active certificate whose SPKI hashes to
 * spki_sha256. RG_ENOTFOUND when unknown, revoked or expired (now). */
int store_principal_by_spki(struct store *st, const uint8_t spki_sha256[32],
                            int64_t now, struct store_principal *out);

/* An active signing key: its owner's name and public key.
 * RG_ENOTFOUND when unknown or revoked (or its owner is). */
int store_signing_key_get(struct store *st, const char *kid,
                          char owner[RG_NAME_MAX + 1], uint8_t pk[32]);

/*
 * Enrols a principal, or adds certificates and keys to an active one of
 * the same role. RG_ECONFLICT when the name is revoked or has another
 * role; RG_EEXIST when a certificate or kid is already registered. actor
 * is the legal principal acting (audited; "refgatectl-init" from init).
 */
int store_principal_enrol(struct store *st, const char *actor,
                          const char *name, enum rg_role role,
                          const struct store_cert_in *certs, size_t n_certs,
                          const struct store_key_in *keys, size_t n_keys,
                          int64_t now);

/* store_principal_enrol, and with trusted_flagger the principal (a
 * partner: RG_EINVAL for another role) is marked a trusted flagger (DSA
 * Art. 22), its notices' source_type in statements of reasons. Enrolling
 * more credentials without it leaves the mark as it was. */
int store_principal_enrol_flagged(struct store *st, const char *actor,
                                  const char *name, enum rg_role role,
                                  bool trusted_flagger,
                                  const struct store_cert_in *certs,
                                  size_t n_certs,
                                  const struct store_key_in *keys,
                                  size_t n_keys, int64_t now);

/* Revokes a principal with all its certificates and keys. RG_ENOTFOUND
 * when there is no active principal of that name. */
int store_principal_revoke(struct store *st, const char *actor,
                           const char *name, int64_t now);

/* Calls cb for every principal, by name; a non-zero return from cb stops
 * the walk and is returned. */
int store_principals_each(struct store *st,
                          int (*cb)(void *ctx, const struct store_principal *p),
                          void *ctx);

/* ---- referrals ------------------------------------------------------ */

/* One normalised identifier of a subject: its kind ('i' account id,
 * 'h' handle), its keyed BLAKE2b index hash, and its value sealed under
 * the data key (AD: the hash). */
struct store_ident {
	char kind;
	uint8_t hash[32];
	const uint8_t *sealed;
	size_t sealed_len;
};

struct store_subject {
	size_t n_idents;             /* 1 or 2 */
	struct store_ident idents[2];
};

/* What one principal may record per UTC day (refgate.conf's quota_*);
 * each at least 1. */
struct store_quota {
	int64_t referrals;
	int64_t subjects;            /* subjects named, however they dedup */
	int64_t bytes;               /* as store_referral_bytes counts them */
};

enum store_quota_kind {
	QUOTA_NONE = 0,
	QUOTA_REFERRALS,
	QUOTA_SUBJECTS,
	QUOTA_BYTES,
};
struct store_referral_out;

struct store_referral_in {
	char id[RG_ID_MAX + 1];      /* fresh "r_..." chosen by the caller */
	const char *principal;
	const char *jti;
	uint8_t jws_sha256[32];
	int64_t received_at;
	enum referral_category category;
	enum referral_urgency urgency;
	const char *partner_ref;     /* NULL when absent */
	int64_t deadline_at;         /* 0: none (removal orders set it) */
	/* The removal order the referral carries (an agency's), NULL: none.
	 * The order (in->principal, reference) is recorded or, when it
	 * exists, the referral linked to it; when the order stood at
	 * cannot_execute, this referral is its clarification: the order's
	 * clock restarts at received_at with deadline_at, and the
	 * cannot_execute cases the referral names go back to received. */
	const struct store_order_in *order;
	const uint8_t *sealed;       /* subjects, evidence, summary, sealed */
	size_t sealed_len;
	size_t n_subjects;
	const struct store_subject *subjects;
	const struct store_quota *quota;   /* per principal and UTC day of
	                                      received_at; NULL: none */
	/* Required: makes the referral's receipt payload, the transparency
	 * log's leaf data, from its answer *out (ids, cases) and its log
	 * index: malloc'd bytes in *payload, *len. Runs in the writer thread
	 * inside the referral's transaction (so leaf and referral commit
	 * together or neither); must not call the store. Non-zero fails the
	 * referral (nothing written). */
	int (*receipt)(void *ctx, const struct store_referral_out *out,
	               uint64_t log_index, char **payload, size_t *len);
	void *receipt_ctx;
};

/* A referral's removal order (contract section 9), as store_order_*
 * keep it; strings owned by the caller. */
struct store_order_in {
	const char *reference;       /* 1-128 characters */
	const char *issuing_authority;   /* NULL: none */
	int64_t issued_at;
	int64_t withhold_notice_until;   /* 0: none */
};

struct store_case_ref {
	char case_id[RG_ID_MAX + 1];
	enum case_status status;
	bool new_case;
};

struct store_referral_out {
	char id[RG_ID_MAX + 1];
	int64_t received_at;
	size_t n_cases;              /* == n_subjects */
	struct store_case_ref cases[REFERRAL_MAX_SUBJECTS];
	enum store_quota_kind over;  /* RG_EQUOTA: the quota it would pass */
	int64_t log_index;           /* -1: recorded before the log existed */
	char *receipt;               /* the leaf data (receipt payload), owned:
	                                store_referral_out_clear frees it;
	                                NULL when log_index is -1 */
	size_t receipt_len;
};

/* The bytes a referral stores, as its principal's daily quota counts
 * them: its sealed content and each identifier's sealed value and hash. */
int64_t store_referral_bytes(const struct store_referral_in *in);

/* Frees what a store_referral_out owns (its receipt payload). */
void store_referral_out_clear(struct store_referral_out *out);

/*
 * Records a referral: deduplicates each subject into the case sharing any
 * of its identifiers (merging cases its identifiers link, oldest id
 * surviving), opens new cases, reopens no_action cases, appends change-feed
 * and audit entries, and commits durably. A merge never closes an open
 * case: when either side is open (received, in_review) the survivor is
 * open, in_review if either side was and received otherwise, with no
 * action and no decision time (a reviewer decides the merged account),
 * and a change row says so; when both are closed, actioned wins over
 * no_action (the actioned side's action and decision time kept). The
 * survivor takes the higher urgency and reopen count, and the earlier
 * deadline of its open sides (of both, when both are closed). The
 * referral records which identifiers it named (what an all_own access
 * key of its principal may disclose) and the feed position from which
 * its principal sees the cases it joins.
 * With in->quota, the principal's counts for the UTC day of received_at
 * (referrals, subjects, bytes; one row in the database, so every node
 * shares it) grow in the same transaction; a referral that would pass
 * one is refused whole.
 * RG_OK: recorded, *out is the answer. RG_EREPLAY: this principal sent
 * this jti with the same jws_sha256 before; *out is the first answer
 * (never refused by a quota, never counted again). RG_EQUOTA: over a
 * daily quota, out->over says which; nothing written. RG_ECONFLICT: same
 * jti, other content. RG_EFULL: storage full, nothing written. RG_EIO:
 * other database fault, nothing written.
 */
int store_referral_submit(struct store *st, const struct store_referral_in *in,
                          struct store_referral_out *out);

/*
 * store_referral_submit without waiting: queues the referral for the next
 * group commit and returns RG_OK at once (RG_EINVAL, RG_ENOMEM, or RG_EIO
 * when the store is stopping: nothing queued, done never called). done
 * is then called exactly once, in the writer thread, after the commit is
 * durable (or failed), with what store_referral_submit would have
 * returned and its answer; done takes what *out owns (the receipt
 * payload: keep it, or store_referral_out_clear). `in` and everything it
 * points to must live until done is called. done must not block nor call
 * the store.
 */
int store_referral_submit_async(struct store *st,
                                const struct store_referral_in *in,
                                void (*done)(void *ctx, int rc,
                                             struct store_referral_out *out),
                                void *ctx);

/*
 * Read-only: whether in->principal already used in->jti. RG_ENOTFOUND
 * when not; RG_EREPLAY with *out the first answer when in->jws_sha256 is
 * the same; RG_ECONFLICT when it is not. (Lets a byte-identical
 * resubmission be answered even after its iat has left the skew window.)
 */
int store_referral_seen(struct store *st, const struct store_referral_in *in,
                        struct store_referral_out *out);

struct store_referral {
	char id[RG_ID_MAX + 1];
	char principal[RG_NAME_MAX + 1];
	bool has_partner_ref;
	char partner_ref[REFERRAL_PARTNER_REF_MAX * 4 + 1];
	int64_t received_at;
	enum referral_category category;
	enum referral_urgency urgency;
	int64_t deadline_at;
	size_t n_subjects;
	const uint8_t *sealed;       /* only in callbacks; NULL otherwise, and
	                                once retention erased it */
	size_t sealed_len;
};

/* Loads a referral (sealed is NULL here). RG_ENOTFOUND. */
int store_referral_get(struct store *st, const char *id,
                       struct store_referral *out);

/* For each subject of a referral, in order: its subject index and the
 * case it belongs to now (merges resolved). */
struct store_case;
int store_referral_cases_each(struct store *st, const char *referral_id,
                              int (*cb)(void *ctx, size_t subject,
                                        const struct store_case *c),
                              void *ctx);

/* ---- cases ---------------------------------------------------------- */

struct store_case {
	char id[RG_ID_MAX + 1];      /* canonical (merges resolved) */
	enum case_status status;
	enum case_action action;
	int64_t opened_at;
	int64_t updated_at;
	int64_t decided_at;          /* 0: undecided */
	int64_t deadline_at;         /* 0: none */
	enum referral_urgency urgency;   /* highest of its referrals */
	int reopen_count;
	int n_referrals;
	int n_principals;            /* distinct principals that referred */
	char claimed_by[RG_NAME_MAX + 1];   /* reviewer of the case's claim
	                                       row, "" when none */
	int64_t claim_expires_at;    /* that claim holds until then (it may
	                                have run out: compare with now) */
};

/* Loads a case by id or by the id of a case merged into it.
 * RG_ENOTFOUND. */
int store_case_get(struct store *st, const char *id, struct store_case *out);

/* RG_OK when `principal` has a referral in case `case_id` (canonical),
 * RG_ENOTFOUND otherwise. */
int store_case_referred_by(struct store *st, const char *case_id,
                           const char *principal);

/* The referrals of a case, oldest first (sealed set in the struct). */
int store_case_referrals_each(struct store *st, const char *case_id,
                              int (*cb)(void *ctx,
                                        const struct store_referral *r),
                              void *ctx);

/* The identifiers of a case: kind and sealed value (AD: hash). */
int store_case_idents_each(struct store *st, const char *case_id,
                           int (*cb)(void *ctx,
                                     const struct store_ident *ident),
                           void *ctx);

struct statement_evidence;
struct statement_defaults;

struct store_decision {
	enum case_status status;
	enum case_action action;
	const char *ground;          /* NULL for in_review; for
	                                cannot_execute the Annex III reason:
	                                force_majeure, manifest_error or
	                                insufficient_information */
	const char *explanation;     /* NULL when none */
	const char *reviewer;
	int64_t at;
	bool automated;              /* always false: a person decided */
	int64_t claim_until;         /* received -> in_review: the reviewer
	                                claims the case until then (0: no
	                                claim) */
	const char *legal_ground;    /* the reviewer's, NULL when none */
	/* For an actioned decision (store_case_decide), what its statement
	 * of reasons needs that only the caller knows: the evidence's content
	 * types and earliest capture (NULL: none known) and the configured
	 * defaults (NULL: statement_defaults_builtin). Not read back. */
	const struct statement_evidence *evidence;
	const struct statement_defaults *statement_defaults;
};

/* The decisions on a case, oldest first. */
int store_case_decisions_each(struct store *st, const char *case_id,
                              int (*cb)(void *ctx,
                                        const struct store_decision *d),
                              void *ctx);

/*
 * Moves a case: received -> in_review -> actioned | no_action (a no_action
 * case reopened by a referral is received again). RG_ENOTFOUND,
 * RG_ECONFLICT for any other move, RG_ECLAIMED when another reviewer's
 * claim holds the case at d->at. Taking the case (in_review) claims it
 * until d->claim_until; a decision (actioned, no_action) ends any claim.
 * On success *after is the case as it is now (canonical id). Durable
 * before it returns.
 * case reopened by a referral is received again). A move to actioned
 * also records its statement of reasons (store_statements_each) in the
 * same transaction: both or neither. RG_ENOTFOUND,
 * RG_ECONFLICT for any other move. On success *after is the case as it is
 * now (canonical id). Durable before it returns.
 */
int store_case_decide(struct store *st, const char *case_id,
                      const struct store_decision *d,
                      struct store_case *after);

/* ---- review claims (store_claims.c) --------------------------------- */

struct store_claim {
	char reviewer[RG_NAME_MAX + 1];  /* "" when none */
	int64_t claimed_at;
	int64_t expires_at;
};

/*
 * Claims an open case for `reviewer` until expires_at (> at), or renews
 * the reviewer's own claim; audited ("claim", "claim_renew").
 * RG_ENOTFOUND; RG_ECONFLICT when the case is closed; RG_ECLAIMED when
 * another reviewer's claim holds at `at` (*held is that claim). On
 * success *held is the claim now and *after the case (either may be
 * NULL).
 */
int store_case_claim(struct store *st, const char *case_id,
                     const char *reviewer, int64_t at, int64_t expires_at,
                     struct store_claim *held, struct store_case *after);

/*
 * Ends `reviewer`'s own live claim on a case; audited ("release").
 * RG_ENOTFOUND when there is no such case or the reviewer holds no live
 * claim on it; RG_ECLAIMED when another reviewer's claim holds (*held).
 */
int store_case_release(struct store *st, const char *case_id,
                       const char *reviewer, int64_t at,
                       struct store_claim *held, struct store_case *after);

/* Open cases (received, in_review), most urgent first: a deadline
 * (earliest first), then imminent_harm, then distinct principals; within
 * ties of these, round robin over the principals that opened the cases
 * (each one's oldest first, then each one's second oldest, ...), then
 * age. At most `limit`. */
int store_review_queue(struct store *st, size_t limit,
                       int (*cb)(void *ctx, const struct store_case *c),
                       void *ctx);

/* ---- what a referrer sees (contract section 4) ----------------------- */

/*
 * A partner's or agency's own view of a case it referred into, by the id
 * it was given for it (an alias of the case when it joined someone
 * else's): status received until a decision, its own opened_at and
 * updated_at, decided_at, and the deadline of its own removal order.
 * Nothing another principal does changes it but a decision. Only id,
 * status, action and the times are set. RG_ENOTFOUND when the principal
 * has no case under that id.
 */
int store_referrer_case_get(struct store *st, const char *principal,
                            const char *alias, struct store_case *out);

/* For each subject of the principal's referral, in order: its view of
 * the subject's case (as store_referrer_case_get). */
int store_referrer_subjects_each(struct store *st, const char *principal,
                                 const char *referral_id,
                                 int (*cb)(void *ctx, size_t subject,
                                           const struct store_case *view),
                                 void *ctx);

/* The principal's own referrals given the case id `alias`, oldest first
 * (sealed set in the struct). */
int store_referrer_referrals_each(struct store *st, const char *principal,
                                  const char *alias,
                                  int (*cb)(void *ctx,
                                            const struct store_referral *r),
                                  void *ctx);

struct store_change;
/* The principal's own change feed: entries numbered 1, 2, 3... per
 * principal (seq), one per case of each of its referrals and one per
 * decision on a case it referred into, under its own ids, after `since`,
 * at most `limit`. *last: the number of the last entry handed out, or
 * `since` when none (another principal's activity never moves it). */
int store_referrer_changes(struct store *st, const char *principal,
                           int64_t since, size_t limit,
                           int (*cb)(void *ctx, const struct store_change *c),
                           void *ctx, int64_t *last);

/* ---- change feed ---------------------------------------------------- */

struct store_change {
	int64_t seq;                 /* strictly increasing, never reused */
	char case_id[RG_ID_MAX + 1]; /* canonical */
	enum case_status status;
	enum case_action action;
	int64_t at;
};

/*
 * Changes with seq > since, oldest first, at most `limit`, of the cases
 * `principal` referred into, from its first referral into each on: never
 * a row from before it joined (every change when principal is NULL).
 * Sets *last to the cursor for the next call: the seq of the last change
 * passed to cb when `limit` of them were (or cb stopped the walk by
 * returning non-zero, which is returned); otherwise the feed head of the
 * same snapshot (never below `since`), so that the next call does not
 * scan again the rows the principal may not see. One read snapshot.
 */
int store_changes(struct store *st, const char *principal, int64_t since,
                  size_t limit,
                  int (*cb)(void *ctx, const struct store_change *c),
                  void *ctx, int64_t *last);

/* A number that moves (before any caller hears of the commit) with
 * every durable commit that changed a case, its referrers' views or
 * feeds: what was read at one generation holds until it moves. */
uint64_t store_case_generation(struct store *st);

/* The highest change seq committed so far (0 when none). */
int64_t store_changes_head(struct store *st);

/* ---- audit ---------------------------------------------------------- */

/* The audit log: one record per state change and disclosure, each
 * chained to the one before by audit_record_hash (proto/audit_record.h,
 * which documents the byte layout). */

/* One row of the audit log. detail is compact JSON text holding ids and
 * enum names only, never account identifiers or free text. */
struct store_audit {
	int64_t seq;                 /* 1, 2, 3, ... without gaps */
	int64_t at;
	const char *actor;           /* principal name, or "refgatectl-init" */
	const char *kind;            /* "referral", "decision", "enrol", ... */
	const char *object;          /* referral id, case id, principal name */
	const char *detail;
	uint8_t prev_hash[32];
	uint8_t hash[32];
};

/*
 * Appends an audit row of the caller's (a disclosure, say): detail must be
 * a JSON object's text and is stored byte for byte. Durable before it
 * returns. RG_EINVAL for a malformed argument, RG_EFULL, RG_EIO.
 */
int store_audit_append(struct store *st, const char *actor, const char *kind,
                       const char *object, const char *detail, int64_t now);

/* Audit rows with seq > since, oldest first, at most `limit`; *last as in
 * store_changes. */
int store_audit_each(struct store *st, int64_t since, size_t limit,
                     int (*cb)(void *ctx, const struct store_audit *a),
                     void *ctx, int64_t *last);

/* ---- statements of reasons (store_statements.c) -------------------- */

#define STATEMENTS_MARK_MAX 100        /* puids per store_statements_mark */

struct store_statement {
	int64_t seq;                 /* 1, 2, 3, ...: the listing's cursor */
	const char *puid;
	const char *body;            /* the statement, compact JSON text */
	int64_t created_at;
	int64_t exported_at;         /* 0: not yet acknowledged */
};

/* Statements with seq > since, oldest first, at most `limit`; with
 * pending only those not exported. *last: the seq of the last one passed
 * to cb, or `since` when none. One read snapshot. A statement whose case
 * a removal order under a notice hold at `now` named is not released:
 * the pending list leaves it out (it stays pending), the whole list ends
 * before it (its cursor never passes it). */
int store_statements_each(struct store *st, int64_t since, size_t limit,
                          bool pending, int64_t now,
                          int (*cb)(void *ctx, const struct store_statement *s),
                          void *ctx, int64_t *last);

/* Marks the statements named by puids (1-STATEMENTS_MARK_MAX) exported at
 * `now`, those not marked before; unknown puids are skipped. *marked: how
 * many changed. Audited ("statements_exported") when any did. RG_EINVAL
 * for a malformed puid or count. */
int store_statements_mark(struct store *st, const char *actor,
                          const char *const *puids, size_t n, int64_t now,
                          size_t *marked);

/* ---- operations ----------------------------------------------------- */

struct store_stats {
	uint64_t commits;            /* group commits that succeeded */
	uint64_t failed_commits;     /* transactions rolled back whole */
	uint64_t jobs;               /* write jobs taken by the writer */
	uint64_t max_batch;          /* most jobs taken in one batch */
	uint64_t queued;             /* jobs waiting now */
};

/* A snapshot of the writer's counters (for /metrics and tests). */
void store_stats_get(struct store *st, struct store_stats *out);

/* ---- access keys (contract section 6) ------------------------------- */

enum key_tier {
	TIER_STATUS = 1,
	TIER_DISCLOSURE = 2,
};

/* ACCESS_KEY_MAX_CASES, ACCESS_KEY_MAX_CIDRS and ACCESS_KEY_BASIS_MAX,
 * the wire limits of an access key, are in proto/rg.h. */

struct store_access_key {
	char id[RG_ID_MAX + 1];         /* "k_" + 22 base64url */
	char principal[RG_NAME_MAX + 1];
	char issued_by[RG_NAME_MAX + 1];
	enum key_tier tier;
	bool all_own;                   /* scope: every case the principal
	                                   referred into */
	size_t n_cases;                 /* scope: these cases (all_own false) */
	const char *const *cases;       /* canonical ids; only in callbacks and
	                                   between _find and _release */
	const char *legal_basis;
	const char *cidrs;              /* "" or comma-separated CIDRs */
	int64_t created_at;
	int64_t expires_at;
	int64_t revoked_at;             /* 0 while active */
	int64_t last_used_at;           /* 0: never */
	int64_t use_count;
};

/* Input for store_access_key_issue: the same fields, strings owned by the
 * caller; secret_hash is the BLAKE2b-256 of the secret (the secret itself
 * never reaches storage). The case ids must exist (merged ids resolved
 * to their survivor); RG_ENOTFOUND names none of them. RG_ENOTFOUND also
 * when the principal is not active. Records the identifiers the listed
 * cases have now (store_access_key_ident_allowed) and the feed position
 * (store_changes_for_key). Audited ("key_issue"). */
int store_access_key_issue(struct store *st, const char *actor,
                           const struct store_access_key *key,
                           const uint8_t secret_hash[32]);

/* The key whose secret hashes to secret_hash (looked up by hash, then
 * compared with sodium_memcmp), active or not: the caller checks
 * revoked_at, expires_at, principal and cidrs. On RG_OK the key's strings
 * and case list live in *holder until store_access_key_release. */
struct store_key_holder;
int store_access_key_find(struct store *st, const uint8_t secret_hash[32],
                          struct store_access_key *out,
                          struct store_key_holder **holder);
void store_access_key_release(struct store_key_holder *holder);

/* Whether an access key covers a case (canonical id): listed, or all_own
 * and the key's principal referred into it. RG_OK or RG_ENOTFOUND. */
int store_access_key_covers(struct store *st, const struct store_access_key *k,
                            const char *case_id);

/* Whether an access key may disclose the account identifier whose index
 * hash is `hash` (on a case it covers): for a listed key, the identifier
 * belonged to one of its cases when the key was issued; for all_own, the
 * key's principal submitted it in a referral of its own. A merge after
 * issue widens what a key covers, never what it discloses. Decided from
 * the store by key id. RG_OK, RG_ENOTFOUND, RG_EINVAL. */
int store_access_key_ident_allowed(struct store *st,
                                   const struct store_access_key *k,
                                   const uint8_t hash[32]);

/* Counts a use (last_used_at = now, use_count + 1). Asynchronous: queued
 * to the writer and not waited for (a lost count is acceptable; a lost
 * referral is not). */
void store_access_key_touch(struct store *st, const char *id, int64_t now);

/* Revokes a key. RG_ENOTFOUND when unknown or already revoked. Audited
 * ("key_revoke"). */
int store_access_key_revoke(struct store *st, const char *actor,
                            const char *id, int64_t now);

/* Every key, newest first (secrets are never stored, so never listed). */
int store_access_keys_each(struct store *st,
                           int (*cb)(void *ctx, const struct store_access_key *k),
                           void *ctx);

/* The changes (as store_changes, in the shared feed) of a listed key's
 * cases (merges followed) from the key's issue on, each once, by seq. An
 * all_own key lists none (its holder's own feed is
 * store_referrer_changes): RG_OK, nothing, *last = since. */
int store_changes_for_key(struct store *st, const struct store_access_key *k,
                          int64_t since, size_t limit,
                          int (*cb)(void *ctx, const struct store_change *c),
                          void *ctx, int64_t *last);

/* ---- signed audit heads -------------------------------------------- */

/* The newest audit row: its seq and hash (seq 0, zero hash when empty). */
int store_audit_head(struct store *st, int64_t *seq, uint8_t hash[32]);

/* Records a signature (Ed25519 by the gateway key, 64 bytes) over the
 * head at seq; the signed message is documented with
 * audit_head_message (proto/audit_record.h). Durable before it returns. */
int store_audit_head_sign(struct store *st, int64_t seq, const uint8_t hash[32],
                          int64_t at, const uint8_t sig[64]);

struct store_audit_signature {
	int64_t seq;
	int64_t at;
	uint8_t hash[32];
	uint8_t sig[64];
};

/* Every signed head, oldest first. */
int store_audit_heads_each(struct store *st,
                           int (*cb)(void *ctx, const struct store_audit_signature *h),
                           void *ctx);

/* The whole audit log checked (proto/audit_verify.h: v's keys set by the
 * caller, the verdict left in v): the signed heads, then the rows up to
 * the last one there was once the heads were read (rows appended
 * meanwhile are for the next check). RG_OK, or the store's failure to
 * read (store_audit_verify.c). */
struct audit_verify;
int store_audit_verify(struct store *st, struct audit_verify *v);

/* ---- partner statistics -------------------------------------------- */

/* Counted over the principal's own views of its cases (one per id it was
 * given; store_referrer_case_get): nothing another principal did changes
 * them but a decision. */
struct store_partner_stats {
	int64_t referrals;              /* the principal's referrals */
	int64_t distinct_accounts;      /* the case ids it was given */
	int64_t actioned;               /* of those, by the status it sees */
	int64_t no_action;
	int64_t pending;                /* received */
	int64_t median_decision_seconds;   /* its opened_at -> decided_at of
	                                      the decided ones; -1 when none */
};

int store_partner_stats(struct store *st, const char *principal,
                        struct store_partner_stats *out);

/* The number of cases (canonical, merged ones not counted). */
int store_cases_count(struct store *st, int64_t *out);

/* The review queue for monitoring: open (received or in_review) cases,
 * the opened_at of the oldest (0 when none), and those whose removal-order
 * deadline passed before now. */
struct store_queue_gauges {
	int64_t open;
	int64_t oldest_opened_at;
	int64_t overdue;
};
int store_queue_gauges(struct store *st, int64_t now,
                       struct store_queue_gauges *out);

/* ---- transparency log (store_log.c) --------------------------------- */

/* The number of leaves committed (one per referral recorded since the
 * log exists). */
int store_log_size(struct store *st, uint64_t *size);

#define STORE_NOTE_MAX 1024

struct store_checkpoint {
	uint64_t size;
	uint8_t root[32];
	int64_t at;
	char note[STORE_NOTE_MAX];   /* the signed note, as served */
};

/* The latest signed checkpoint (largest size). RG_ENOTFOUND when none. */
int store_log_checkpoint_latest(struct store *st, struct store_checkpoint *out);

/*
 * In the writer: when the tree has grown past the latest checkpoint (or
 * none exists), computes the root of the whole committed tree, has
 * sign() write the note for (size, root) into note (cap bytes) and
 * records it; then *out is the latest checkpoint. Since checkpoints are
 * only ever made here, from the committed append-only tree, and never
 * for a size already signed, no two signed checkpoints disagree.
 * Durable before it returns.
 */
int store_log_checkpoint_sign(struct store *st, int64_t now,
                              int (*sign)(void *ctx, uint64_t size,
                                          const uint8_t root[32],
                                          char *note, size_t cap),
                              void *ctx, struct store_checkpoint *out);

/* The RFC 9162 inclusion proof of leaf `index` in the tree of `size`
 * leaves, and the consistency proof between the trees of `from` and
 * `size` leaves: *n hashes (at most MERKLE_MAX_PROOF) into out. RG_EINVAL
 * for bounds the tree does not have (index >= size, from = 0, from >
 * size, size beyond the committed tree). One read snapshot. */
int store_log_inclusion(struct store *st, uint64_t index, uint64_t size,
                        uint8_t out[][32], size_t *n);
int store_log_consistency(struct store *st, uint64_t from, uint64_t size,
                          uint8_t out[][32], size_t *n);

/* ---- retention (contract section 13, store_retention.c) ------------- */

/* An actioned case that a removal order named is held this long after
 * its decision (Regulation (EU) 2021/784 Art. 6: six months). */
#define STORE_PRESERVE_SECONDS (INT64_C(183) * 86400)

struct store_purge_result {
	int64_t cases;               /* cases whose identifiers were erased */
	int64_t referrals;           /* referrals whose content was erased */
	int64_t identifiers;         /* identifier index entries erased */
	int64_t held;                /* closed before the cutoff, not erased:
	                                under a preservation hold */
	bool compacted;              /* the WAL was checkpointed and emptied */
};

/*
 * Erases what retention says must go: for every case closed (actioned or
 * no_action) at or before `cutoff` and not held at `now`
 * (preserved_until <= now), its identifier index entries (case_idents,
 * and the same hashes in referral_idents, referrer_idents and
 * access_key_idents), and the sealed content (subjects, evidence,
 * summary) of each of its referrals once every case that referral named
 * is erased. The case keeps its id, status, dates and decisions; each
 * erased case gets one "purge" audit record (actor: `actor`) in the
 * same transaction. Works in transactions of at most 100 cases until
 * none is left, then checkpoints the WAL into the file and empties it
 * (st_wal_truncate) so that, with the writer's secure_delete, the erased
 * bytes are in neither file. `retention_days` only goes into the audit
 * detail. RG_OK with *out (also when nothing was due), or an rg_err
 * (what committed before stays committed).
 */
int store_purge(struct store *st, const char *actor, int64_t now,
                int64_t cutoff, int retention_days,
                struct store_purge_result *out);

/* ---- removal orders (contract section 9, store_orders.c) ----------- */

#define STORE_ORDER_REASON_MAX 500   /* preservation reason, characters */

/* A removal order as its issuing agency reads it (Annex II feedback).
 * status: cannot_execute when the platform answered so (reason set) and
 * no clarification came since; otherwise from its cases: received while
 * any is open, else actioned when any is (action and actioned_at: the
 * latest actioned case's), else no_action. */
struct store_order {
	char reference[REFERRAL_REFERENCE_MAX * 4 + 1];
	char issuing_authority[REFERRAL_AUTHORITY_MAX * 4 + 1];   /* "": none */
	int64_t issued_at;
	int64_t received_at;         /* of its first or clarifying referral */
	int64_t deadline_at;
	enum case_status status;
	enum case_action action;
	int64_t actioned_at;         /* 0: not actioned */
	char reason[32];             /* cannot_execute's, "" otherwise */
	int64_t preserved_until;     /* 0: no hold */
	int64_t notice_withheld_until;   /* 0: none */
	bool withhold_extended;
	size_t n_cases;
};

/* Whether s is one of Annex III's reasons for cannot_execute:
 * force_majeure, manifest_error, insufficient_information. */
bool store_order_reason_valid(const char *s);

/* The order `reference` of agency `agency`. RG_ENOTFOUND when that
 * agency has no such order (another agency's is not found either). */
int store_order_get(struct store *st, const char *agency,
                    const char *reference, struct store_order *out);

/* Moves the order's preservation hold to `until` (and that of each of
 * its cases, never earlier than it was), with the agency's reason;
 * audited ("preservation"). RG_ENOTFOUND; RG_ECONFLICT when until is
 * not later than the hold now (*out still filled). */
int store_order_preserve(struct store *st, const char *agency,
                         const char *reference, int64_t until,
                         const char *reason, int64_t now,
                         struct store_order *out);

/* Extends the order's notice hold to `until`, once: RG_ENOTFOUND;
 * RG_ECONFLICT when it was extended before, has no hold to extend, or
 * until is not later than the hold now; RG_ETOOBIG when until is more
 * than REFERRAL_WITHHOLD_MAX_SECONDS after the hold now. Audited
 * ("notice_hold"). *out: the order after (or as it is, on a refusal). */
int store_order_withhold(struct store *st, const char *agency,
                         const char *reference, int64_t until, int64_t now,
                         struct store_order *out);

/* The notice hold on a case: the latest notice_withheld_until of the
 * orders that named it, when later than now; 0 otherwise. */
int store_case_notice_hold(struct store *st, const char *case_id, int64_t now,
                           int64_t *until);

/* Removal orders for monitoring: open (a case still received or
 * in_review, no cannot_execute), overdue (open past deadline_at at now),
 * actioned within the hour and after it. */
struct store_order_gauges {
	int64_t open;
	int64_t overdue;
	int64_t within;
	int64_t after;
};
int store_order_gauges(struct store *st, int64_t now,
                       struct store_order_gauges *out);

/* ---- transparency report (contract section 13, store_report.c) ------ */

#define STORE_REPORT_WEEKS 54        /* weeks a range of 366 days touches */
#define STORE_N_CATEGORIES 5         /* enum referral_category */
#define STORE_N_URGENCIES 3          /* enum referral_urgency */
#define STORE_N_OUTCOMES 4           /* the three actions, then no_action */
#define STORE_N_GROUNDS 2            /* illegal_content, terms_of_service */

/* The counts of a period [from, to) (Unix seconds; the caller keeps it
 * within 366 days). Weeks are counted from week_base, the Monday 00:00
 * UTC on or before `from`. */
struct store_report {
	int64_t referrals[2][STORE_N_CATEGORIES];  /* [0] partner, [1] agency */
	int64_t per_week[STORE_REPORT_WEEKS][STORE_N_CATEGORIES];
	size_t n_weeks;
	int64_t cases_opened;                  /* live cases (after merges) */
	/* decisions that closed a case in the period: outcome (action - 1
	 * for actioned, 3 for no_action) by ground */
	int64_t decisions[STORE_N_OUTCOMES][STORE_N_GROUNDS];
	/* cases whose (latest) decision falls in the period: opened_at ->
	 * decided_at, by the case's urgency; -1 when none */
	int64_t decided[STORE_N_URGENCIES];
	int64_t median_seconds[STORE_N_URGENCIES];
	int64_t p90_seconds[STORE_N_URGENCIES];
	/* removal orders received in the period, each by all of its cases:
	 * every one actioned by its deadline, every one actioned but the
	 * last after it, one still undecided, or decided otherwise */
	int64_t orders_received;
	int64_t orders_within;
	int64_t orders_after;
	int64_t orders_open;
	int64_t orders_not_actioned;
	/* cannot_execute answers given in the period, by Annex III reason:
	 * force_majeure, manifest_error, insufficient_information */
	int64_t orders_cannot_execute[3];
	int64_t holds_started;                 /* held cases decided in it */
	int64_t holds_active;                  /* held at `now` */
	int64_t keys_issued[2];                /* [0] status, [1] disclosure */
	int64_t disclosures;                   /* "disclosure" audit records */
};

/* Fills *out for [from, to) from one read snapshot. RG_EINVAL when the
 * period is empty or longer than STORE_REPORT_WEEKS weeks allow. */
int store_report(struct store *st, int64_t from, int64_t to,
                 int64_t week_base, int64_t now, struct store_report *out);

/* ---- moving a deployment (store_migrate.c) ------------------------- */

struct store_migrate_result {
	int64_t tables;              /* tables copied */
	int64_t rows;                /* rows copied, in all */
	int64_t version;             /* the schema version of both */
	char why[256];               /* on failure: why, one line, no secret
	                              * (never the URI) */
};

/*
 * Copies the SQLite database at `from` (a stopped deployment's) into the
 * empty PostgreSQL database `to` (a libpq URI): the schema of this build
 * made there, then every table row for row (ids, hashes, sealed content
 * and the audit chain unchanged; identity sequences continue after the
 * copied rows), all in one PostgreSQL transaction: on any failure nothing
 * is left in `to`. The SQLite file is held with an exclusive lock from
 * before the first read to the end, and is not written. connect_timeout_s
 * as store_opts. Answers RG_OK, or with r->why set:
 *   RG_ECONFLICT  the SQLite file is open elsewhere (a gateway runs on it)
 *   RG_EEXIST     `to` is not empty (any table, sequence or view in its
 *                 current schema, refgate's or not)
 *   RG_EINVAL     `from` is not a refgate database of this build's schema
 *                 version, or holds a table this build does not know
 *   RG_EIO, RG_ENOMEM, RG_EFULL  a fault of either database
 */
int store_migrate(const char *from, const char *to, int connect_timeout_s,
                  struct store_migrate_result *r);

#endif
