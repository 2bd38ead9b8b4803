#!/usr/bin/env bash
# t_robust_storage: "503 unavailable (e.g. storage full); nothing is
# half-written" (contract section 7). Two ways to run out of space:
#   1. max_db_pages in refgate.conf: referrals are refused with 503
#      problem+json once the bound is reached, the tables are unchanged
#      across each refused request, reads go on, and the refused JWS is a
#      new referral (201, not a replay) once the bound is raised (restart).
#   2. a real full file system: the database on a 4 MiB tmpfs filled up
#      with a filler file: 503, nothing written; the filler deleted, the
#      next submission of the refused JWS answers 201 without a restart.
. "$(dirname "$0")/lib.sh"
MNT=
on_exit() {
	rg_kill9
	[ -n "$MNT" ] && mountpoint -q "$MNT" && umount -l "$MNT"
	cleanup
}
trap on_exit EXIT

rg_setup_conf rate_limit_rps 0
enrol full partner || finish
DB=$(conf_path database)

# big NAME: a referral of ~40 KiB (summary and 16 evidence URLs of 2000
# characters) from partner full; sets CODE.
big() {
	refer full "$1" 'summary: "s".repeat(3900)+rnd(8), evidence: Array.from({length: 16}, (_, i) =>
		({url: "https://evidence.example/"+rnd(8)+"/"+"a".repeat(1990), sha256: "ab".repeat(32),
		  media_type: "image/png", captured_at: now - 60}))'
}
# counts: rows of every table a referral writes, one line.
counts() {
	dbq 'BEGIN; SELECT (SELECT count(*) FROM referrals) || " " || (SELECT count(*) FROM referral_subjects)
		|| " " || (SELECT count(*) FROM cases) || " " || (SELECT count(*) FROM case_idents)
		|| " " || (SELECT count(*) FROM changes) || " " || (SELECT count(*) FROM audit); COMMIT;'
}
# fill_until_503 LABEL: big referrals until one is refused (at most 40);
# the refused one is $T/LABEL-N.jws, its name in REFUSED.
fill_until_503() {
	local k
	REFUSED=
	ACCEPTED=0
	for k in $(seq 40); do
		C0=$(counts)
		big "$1-$k"
		[ "$CODE" = 201 ] && { ACCEPTED=$((ACCEPTED + 1)); LAST_OK="$1-$k"; continue; }
		REFUSED="$1-$k"
		return 0
	done
	return 1
}

big warm
expect "a large referral -> 201 (control)" 201

# ---- 1. max_db_pages -------------------------------------------------------------
rg_stop || finish
pages=$(dbq 'PRAGMA page_count;')
conf_set max_db_pages $((pages + 60))
rg_start || finish
echo "# database at $pages pages; max_db_pages = $((pages + 60))"
if fill_until_503 pg; then
	expect_problem "max_db_pages reached: 503 unavailable (after $ACCEPTED accepted)" 503 unavailable
	echo "# Retry-After: '$(hdr Retry-After)'"
	eq "nothing written by the refused referral (referrals subjects cases idents changes audit)" "$C0" "$(counts)"
	[ "$ACCEPTED" -gt 0 ] && ok "referrals were accepted before the bound ($ACCEPTED)" || notok "referrals were accepted before the bound" "the first one was refused"
	# Again: still refused, still nothing written.
	C1=$(counts)
	post_jws full "$T/$REFUSED.jws"
	expect_problem "the same referral again while full: 503 unavailable" 503 unavailable
	eq "nothing written by the second attempt" "$C1" "$(counts)"
	big pg-small-after
	case $CODE in 503) ok "another large referral while full: 503" ;; *) notok "another large referral while full: 503" "$(last)" ;; esac
	eq "nothing written by it" "$C1" "$(counts)"
	# Reads go on.
	rid=$(jget "$T/$LAST_OK.answer" .referral_id)
	req full GET "/v1/referrals/$rid"
	expect "reading a referral while full -> 200" 200
	req full GET /v1/keys
	expect "GET /v1/keys while full -> 200" 200
	# Space returns (the bound raised; a restart is the only way to change it).
	rg_stop || finish
	conf_set max_db_pages 0
	rg_start || finish
	post_jws full "$T/$REFUSED.jws"
	expect "bound raised: the refused JWS is a new referral -> 201 (not a replay)" 201
	post_jws full "$T/$REFUSED.jws"
	expect "and its replay -> 200 (control)" 200
else
	notok "max_db_pages = $((pages + 60)): a referral refused within 40 large ones" "$(last)"
fi
eq "integrity_check after max_db_pages" ok "$(dbq 'PRAGMA integrity_check;')"

# ---- 2. a full file system (tmpfs) -----------------------------------------------
rg_stop || finish
MNT=$T/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m,mode=0700 tmpfs "$MNT" 2>"$T/mount.err"; then
	notok "full file system on tmpfs" "mount -t tmpfs failed: $(cat "$T/mount.err")"
	MNT=
	rg_start || finish
	finish
fi
for f in "$DB" "$DB-wal" "$DB-shm"; do [ -f "$f" ] && cp -p "$f" "$MNT/"; done
conf_set database "$MNT/$(basename "$DB")"
DB=$(conf_path database)
rg_start || finish
big fs-before
expect "database on tmpfs: a large referral -> 201 (control)" 201
# Fill the file system: the database may only use what it already holds.
dd if=/dev/zero of="$MNT/filler" bs=64k >/dev/null 2>&1
dd if=/dev/zero of="$MNT/filler2" bs=4k >/dev/null 2>&1
dd if=/dev/zero of="$MNT/filler3" bs=512 >/dev/null 2>&1
avail=$(df --output=avail -B1 "$MNT" | tail -n 1 | tr -d ' ')
eq "tmpfs full (bytes available)" 0 "$avail"
if fill_until_503 fs; then
	expect_problem "file system full: 503 unavailable (after $ACCEPTED accepted)" 503 unavailable
	eq "nothing written by the refused referral" "$C0" "$(counts)"
	req full GET /v1/keys
	expect "GET /v1/keys while the disk is full -> 200" 200
	alive "daemon alive while the disk is full"
	rm -f "$MNT/filler" "$MNT/filler2" "$MNT/filler3"
	post_jws full "$T/$REFUSED.jws"
	expect "space back, no restart: the refused JWS -> 201" 201
	big fs-after
	expect "space back, no restart: a new referral -> 201" 201
	post_jws full "$T/$REFUSED.jws"
	expect "replay of the refused-then-accepted JWS -> 200" 200
else
	notok "full tmpfs: a referral refused within 40 large ones" "$(last)"
	rm -f "$MNT/filler" "$MNT/filler2" "$MNT/filler3"
fi
eq "integrity_check after the full disk" ok "$(dbq 'PRAGMA integrity_check;')"
finish
