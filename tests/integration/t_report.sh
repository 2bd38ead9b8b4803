#!/usr/bin/env bash
# t_report: contract section 13, the transparency report. GET
# /v1/admin/report counts a period's referrals, cases, decisions, times to
# decision, removal orders, holds, access keys and disclosures; cells per
# category below report_min_count read "<10"; bad periods are refused;
# `refgatectl report --html` writes one self-contained page that headless
# Chromium renders with its four SVG charts, under a CSP that lets nothing
# else in. Times to decision and a missed removal-order deadline are set
# in the database with the gateway stopped (no sleeping).
# RG_REPORT_KEEP=DIR keeps the HTML and the screenshot there.
. "$(dirname "$0")/lib.sh"
rg_setup
enrol pave partner || finish
enrol isd partner || finish
enrol agent agency || finish
enrol rev reviewer || finish

DB=$(conf_path database)
TAG=$(rnd 6)
decide() { post_json rev "/v1/cases/$1/decision" "$2"; }
act() {   # CASE [GROUND]
	decide "$1" '{"status":"in_review"}'
	decide "$1" '{"status":"actioned","action":"content_removed","ground":"'"${2:-illegal_content}"'","explanation":"x"}'
	[ "$CODE" = 200 ] || notok "actioned $1" "$(last)"
}
noact() {
	decide "$1" '{"status":"in_review"}'
	decide "$1" '{"status":"no_action","ground":"terms_of_service","explanation":"x"}'
	[ "$CODE" = 200 ] || notok "no_action $1" "$(last)"
}
n=0
newcase() {   # WHO MEMBERS: sets CASE, REF
	n=$((n + 1))
	refer "$1" "r$n" "subjects:[{handle:\"Rep_${TAG}_$n\"}]${2:+, $2}"
	[ "$CODE" = 201 ] || notok "referral r$n" "$(last)"
	CASE=$(jget "$T/r$n.answer" '.cases[0].case_id'); REF=$(jget "$T/r$n.answer" '.referral_id')
}
order() { echo "removal_order:{reference:\"RO-$TAG-$1\", issued_at:now, legal_basis:\"Regulation (EU) 2021/784, Art. 3\"}"; }

# ---- the period's activity -----------------------------------------------------
ROUTINE=""
for i in $(seq 12); do newcase pave 'category:"terrorist_content"'; [ "$i" -le 3 ] && ROUTINE="$ROUTINE $CASE"; done
newcase isd 'category:"hate_speech", urgency:"urgent"'; HS1=$CASE
newcase isd 'category:"hate_speech", urgency:"urgent"'; noact "$CASE"
newcase pave 'category:"terrorist_content", urgency:"urgent"'; URG=$CASE
for c in $ROUTINE; do act "$c"; done
act "$URG" terms_of_service
act "$HS1"
newcase agent "urgency:\"urgent\", $(order 1)"; OW=$CASE; act "$OW"     # within the hour
newcase agent "urgency:\"urgent\", $(order 2)"; OA=$CASE; RA=$REF; act "$OA"   # after it (below)
newcase agent "urgency:\"urgent\", $(order 3)"; noact "$CASE"          # not actioned
newcase agent "urgency:\"urgent\", $(order 4)"                          # open
post_json legal /v1/admin/access-keys "{\"principal\":\"agent\",\"tier\":\"status\",\"cases\":[\"$OW\"],\"legal_basis\":\"Cooperation agreement\",\"expires_at\":\"$(date -u -d @$(($(date +%s) + 86400)) +%Y-%m-%dT%H:%M:%SZ)\"}"
expect "a status key" 201
post_json legal /v1/admin/access-keys "{\"principal\":\"agent\",\"tier\":\"disclosure\",\"cases\":[\"$OW\"],\"legal_basis\":\"Production order 12 Gs 345/26\",\"expires_at\":\"$(date -u -d @$(($(date +%s) + 86400)) +%Y-%m-%dT%H:%M:%SZ)\"}"
expect "a disclosure key" 201
DK=$(jget "$BODY" .secret)
req agent GET "/v1/cases/$OW" -H "Authorization: Bearer $DK"
eq "one disclosure" "200 yes" "$CODE $(jeval "$BODY" 'j.handle?"yes":"no"')"

# the routine cases took 1, 2 and 3 hours, the urgent one 30 minutes;
# the second order was actioned after its deadline
rg_stop
set -- $ROUTINE
sqlite3 "$DB" "UPDATE cases SET opened_at = decided_at - 3600 WHERE id = '$1';
UPDATE cases SET opened_at = decided_at - 7200 WHERE id = '$2';
UPDATE cases SET opened_at = decided_at - 10800 WHERE id = '$3';
UPDATE cases SET opened_at = decided_at - 1800 WHERE id = '$URG';
UPDATE referrals SET deadline_at = (SELECT decided_at - 60 FROM cases WHERE id = '$OA') WHERE id = '$RA';" \
	|| notok "setting times in the database"
rg_start || finish

FROM=$(date -u -d yesterday +%F); TO=$(date -u -d tomorrow +%F)
req legal GET "/v1/admin/report?from=$FROM&to=$TO"
expect "GET /v1/admin/report -> 200" 200
cp "$BODY" "$T/report.json"
R=$T/report.json
eq "period, threshold" "$FROM $TO 10" "$(jeval "$R" '[j.from,j.to,j.min_count].join(" ")')"
eq "referrals by role" "15 4" "$(jeval "$R" 'j.referrals.by_role.partner+" "+j.referrals.by_role.agency')"
eq "terrorist_content from partners: 13 (shown, at or above 10)" 13 "$(jget "$R" '.referrals.by_category.terrorist_content.partner')"
eq "hate_speech from partners: 2, shown as <10" "<10" "$(jget "$R" '.referrals.by_category.hate_speech.partner')"
eq "terrorist_content from agencies: 4, shown as <10" "<10" "$(jget "$R" '.referrals.by_category.terrorist_content.agency')"
eq "a category with none: <10 too" "<10" "$(jget "$R" '.referrals.by_category.other_illegal.partner')"
eq "no per-category cell below 10 is a number" "" \
	"$(jeval "$R" 'Object.values(j.referrals.by_category).flatMap(o=>Object.values(o)).concat(j.referrals_per_week.flatMap(w=>Object.values(w.counts))).filter(v=>typeof v==="number"&&v<10).join(",")')"
eq "per week, all senders: the week of today has 17 terrorist_content referrals" 17 \
	"$(jeval "$R" 'j.referrals_per_week.map(w=>w.counts.terrorist_content).filter(v=>v!=="<10").join(",")')"
eq "weeks start on Monday" true "$(jeval "$R" 'j.referrals_per_week.every(w=>new Date(w.week+"T00:00:00Z").getUTCDay()===1)')"
eq "cases opened" 19 "$(jget "$R" .cases_opened)"
eq "decisions by outcome and ground" "6 1 2 0" \
	"$(jeval "$R" '[j.decisions.content_removed.illegal_content,j.decisions.content_removed.terms_of_service,j.decisions.no_action.terms_of_service,j.decisions.account_suspended.illegal_content].join(" ")')"
eq "time to decision, routine: 3 decided, median 2 h, p90 3 h" "3 7200 10800" \
	"$(jeval "$R" '(t=>[t.decided,t.median_seconds,t.p90_seconds].join(" "))(j.time_to_decision.routine)')"
eq "imminent_harm: none decided, no median" "0 null null" \
	"$(jeval "$R" '(t=>[t.decided,t.median_seconds,t.p90_seconds].map(String).join(" "))(j.time_to_decision.imminent_harm)')"
eq "removal orders: received, within, after, not actioned, open" "4 1 1 1 1" \
	"$(jeval "$R" '(o=>[o.received,o.actioned_within_hour,o.actioned_after_hour,o.not_actioned,o.open].join(" "))(j.removal_orders)')"
eq "preservation holds: started, active" "2 2" "$(jeval "$R" 'j.preservation_holds.started+" "+j.preservation_holds.active')"
eq "access keys by tier, disclosures" "1 1 1" \
	"$(jeval "$R" '[j.access_keys.issued.status,j.access_keys.issued.disclosure,j.access_keys.disclosures].join(" ")')"
eq "the report names no principal and no account" no \
	"$(grep -qE "pave|isd|agent|Rep_$TAG|$OW" "$R" && echo yes || echo no)"

req legal GET "/v1/admin/report?from=2001-01-01&to=2001-12-31"
eq "a period with nothing: zeros, and <10 per category" "200 0 <10 null" \
	"$CODE $(jeval "$BODY" '[j.cases_opened,j.referrals.by_category.hate_speech.agency,String(j.time_to_decision.routine.median_seconds)].join(" ")')"
req legal GET "/v1/admin/report?from=2024-01-01&to=2024-12-31"
expect "366 days (a leap year) -> 200 (control for the 367 below)" 200
for q in "from=2024-01-01&to=2025-01-01|367 days" "from=2026-02-30&to=2026-03-01|no such day" \
	"from=2026-03-02&to=2026-03-01|to before from" "from=2026-03-01|no to" "to=2026-03-01|no from" \
	"from=2026-3-01&to=2026-03-02|not YYYY-MM-DD" "from=1969-12-31&to=1970-01-01|before 1970" \
	"from=2026-03-01T00:00:00Z&to=2026-03-02|a time, not a date"; do
	req legal GET "/v1/admin/report?${q%%|*}"
	expect_problem "report with ${q#*|} -> 400 bad_request" 400 bad_request
done
req pave GET "/v1/admin/report?from=$FROM&to=$TO"
expect_problem "a partner asks for the report -> 403" 403 forbidden
req rev GET "/v1/admin/report?from=$FROM&to=$TO"
expect_problem "a reviewer asks for the report -> 403" 403 forbidden

# ---- refgatectl report -------------------------------------------------------------
if ctl report --from "$FROM" --to "$TO"; then
	eq "refgatectl report prints the same counts" "$(jeval "$R" 'JSON.stringify([j.referrals,j.decisions,j.removal_orders])')" \
		"$(jeval "$T/ctl.out" 'JSON.stringify([j.referrals,j.decisions,j.removal_orders])')"
else notok "refgatectl report" "$(cat "$T/ctl.out")"; fi
ctl report --from 2026-02-30 --to "$TO"; rc=$?
eq "refgatectl report with a bad date: usage (exit 2), naming from" "2 yes" "$rc $(grep -q 'from is not a date' "$T/ctl.out" && echo yes || echo no)"
HTML=$T/report.html
if ctl report --from "$FROM" --to "$TO" --html "$HTML"; then ok "refgatectl report --html"
else notok "refgatectl report --html" "$(cat "$T/ctl.out")"; fi
ctl report --from "$FROM" --to "$TO" --html "$HTML"; rc=$?
eq "an existing file is not overwritten" "1 yes" "$rc $(grep -q exists "$T/ctl.out" && echo yes || echo no)"

# the page as written: self-contained, and its CSP allows exactly its style
eq "the page loads nothing: no src, href, url(, @import or http(s) URL" "" \
	"$(grep -oE '(src|href|action)=|url\(|@import|https?:' "$HTML" | sort -u | tr '\n' ' ')"
eq "no script" "" "$(grep -oiE '<script|javascript:|[[:space:]]on[a-z]+=' "$HTML" | sort -u | tr '\n' ' ')"
eq "the CSP: default-src 'none' and the inline style sheet by its SHA-256" "ok" "$(python3 - "$HTML" <<'EOF'
import base64, hashlib, re, sys
h = open(sys.argv[1], encoding="utf-8").read()
csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', h)
css = re.findall(r"<style>(.*?)</style>", h, re.S)
want = "sha256-" + base64.b64encode(hashlib.sha256(css[0].encode()).digest()).decode() if len(css) == 1 else None
c = csp.group(1) if csp else ""
print("ok" if want and "default-src 'none'" in c and f"style-src '{want}'" in c and "script-src" not in c else f"csp={c!r} style hash={want}")
EOF
)"
eq "the figures in the page: 13 terrorist_content referrals, <10 shown as &lt;10" "yes yes" \
	"$(grep -q '<td>13</td>' "$HTML" && echo yes || echo no) $(grep -q '<td>&lt;10</td>' "$HTML" && echo yes || echo no)"

# ---- headless Chromium ---------------------------------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	notok "chromium installed (Debian package chromium; scripts/install-deps.sh)"
else
	chrome() { timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-extensions --disable-background-networking --enable-logging=stderr --v=0 \
		--user-data-dir="$T/chrome" "$@"; }
	chrome --dump-dom "file://$HTML" >"$T/dom.html" 2>"$T/chrome.log"
	eq "Chromium renders the page: four SVG charts, each with drawn paths" \
		"chart-weeks:yes chart-decisions:yes chart-durations:yes chart-orders:yes" "$(python3 - "$T/dom.html" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.svg = None; s.paths = {}; s.order = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            s.svg = a.get("id"); s.order.append(s.svg); s.paths[s.svg] = 0
        elif tag == "path" and s.svg and len(a.get("d", "").strip()) > 2 and a.get("fill", "none") != "none":
            s.paths[s.svg] += 1
    def handle_endtag(s, tag):
        if tag == "svg": s.svg = None
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
print(" ".join(f"{i}:{'yes' if p.paths[i] > 0 else 'no'}" for i in p.order))
EOF
)"
	eq "the weekly chart draws the 13 terrorist_content referrals in their colour" yes \
		"$(grep -o '<svg id="chart-weeks".*</svg>' "$T/dom.html" | grep -q 'fill="#b2182b"/\?>' && echo yes || echo no)"
	eq "Chromium reports no Content-Security-Policy violation for the page" "" \
		"$(grep -i 'Content Security Policy' "$T/chrome.log" | head -n 2)"
	# control: the same page with an external image and a style not in the CSP
	sed 's|<body>|<body><img src="https://example.invalid/x.png"><style>h1{color:red}</style>|' "$HTML" >"$T/evil.html"
	chrome --dump-dom "file://$T/evil.html" >/dev/null 2>"$T/chrome-evil.log"
	eq "control: Chromium blocks an external image and a foreign style under the page's CSP" "2" \
		"$(grep -c 'violates the following Content Security Policy' "$T/chrome-evil.log")"
	chrome --screenshot="$T/report.png" --window-size=860,2600 --hide-scrollbars "file://$HTML" >/dev/null 2>>"$T/chrome.log"
	eq "the screenshot is not blank: many colours, the chart colours among them" "ok" "$(python3 - "$T/report.png" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
if d[:8] != b"\x89PNG\r\n\x1a\n": print("not a PNG"); sys.exit()
pos, idat, w = 8, b"", 0
while pos < len(d):
    n, t = struct.unpack(">I4s", d[pos:pos + 8]); body = d[pos + 8:pos + 8 + n]; pos += 12 + n
    if t == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif t == b"IDAT": idat += body
bpp = {2: 3, 6: 4}.get(ctype)
if depth != 8 or not bpp: print("unexpected PNG format"); sys.exit()
raw, stride, prev, px = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set()
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, stride, bpp * 4): px.add(bytes(line[x:x + 3]))
chart = {bytes.fromhex(c) for c in ("b2182b", "2166ac", "1a9850", "d73027")}
print("ok" if len(px) > 20 and len(chart & px) == 4 else f"{len(px)} colours, chart colours found: {len(chart & px)}")
EOF
)"
	if [ -n "${RG_REPORT_KEEP:-}" ]; then mkdir -p "$RG_REPORT_KEEP" && cp "$HTML" "$T/report.png" "$RG_REPORT_KEEP/"; fi
fi

# ---- the threshold is configured ---------------------------------------------------
rg_stop
conf_set report_min_count 20
rg_start || finish
req legal GET "/v1/admin/report?from=$FROM&to=$TO"
eq "report_min_count 20: 13 now shows as <20, totals by role stay exact" "<20 15" \
	"$(jeval "$BODY" 'j.referrals.by_category.terrorist_content.partner+" "+j.referrals.by_role.partner')"
finish
