#!/usr/bin/env bash
# t_late_replay.sh - a byte-identical resubmission is answered with its
# first answer (200) even after its iat has left the skew window; other
# content under the same jti, or a new jti with that iat, is 401 stale_iat
# (the control that the window really closed).
. "$(dirname "$0")/lib.sh"
rg_init || finish
printf 'iat_skew = 2\n' >>"$D/refgate.conf"
rg_start || finish
enrol pave partner || finish

refer pave first ''
expect "fresh referral -> 201" 201
sleep 4
post_jws pave "$T/first.jws"
expect "identical JWS after the skew window -> 200" 200
eq "the replay body is the first answer" "$(cat "$T/first.answer")" "$(cat "$BODY")"
JTI=$(jget "$T/first.json" .jti)
IAT=$(jget "$T/first.json" .iat)
refer pave other "jti: \"$JTI\", iat: $IAT, category: \"hate_speech\""
expect_problem "same jti, other content, late -> 401 stale_iat (only the identical bytes are replayed)" 401 stale_iat
refer pave fresh "iat: $IAT"
expect_problem "new jti with the old iat -> 401 stale_iat" 401 stale_iat
finish
