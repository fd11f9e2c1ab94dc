#!/bin/bash
# vhdvisord over TCP: TLS with the self-signed certificate it made at first
# start (0600, its fingerprint in RUN/vhdvisord.json, kept across restarts),
# bearer tokens from `vhdvisor token`: none or a bad one 401, a too low role
# 403, the right role 200; a revoked token stops working; mutating requests
# are audited with the token's name; plain HTTP is not served; after ten
# bad tokens an address gets 429 for a while.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl openssl

truncate -s 8M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv vm create web --from tmpl >/dev/null

note "tokens"
view=$(vv token create ro --role viewer 2>/dev/null)
op=$(vv token create ci --role operator 2>/dev/null)
adm=$(vv token create boss --role admin 2>/dev/null)
[[ $view =~ ^vvt_[0-9a-f]{64}$ ]] || fail "token format: $view"
expect_exit 1 vv token create ro --role admin
assert_stderr "taken"
expect_exit 2 vv token create x --role root
expect_exit 2 vv token create a/b --role viewer
assert_eq "$(stat -c %a "$VHDVISOR_STATE/tokens")" 600 "tokens file mode"
grep -q "${view#vvt_}" "$VHDVISOR_STATE/tokens" && fail "a token is stored in clear"
assert_eq "$(vv token list --json | jq -r '[.[] | .name + ":" + .role] | join(",")')" \
	"ro:viewer,ci:operator,boss:admin" "token list"

daemon_start --listen 127.0.0.1:0
[[ $URL =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || fail "url: $URL"
tls=$VHDVISOR_STATE/tls
assert_eq "$(stat -c %a "$tls/key.pem") $(stat -c %a "$tls/cert.pem")" "600 600" "TLS file modes"
fp=$(openssl x509 -in "$tls/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
assert_eq "$(jq -r .fingerprint "$VHDVISOR_RUN/vhdvisord.json")" "$fp" "fingerprint"

note "no token, bad tokens: 401"
expect_status 401 "$(tapi "" GET /api/v1/vms)" "no token"
expect_status 401 "$(tapi "vvt_$(printf '%064d' 0)" GET /api/v1/vms)" "unknown token"
expect_status 401 "$(tapi "garbage" GET /api/v1/vms)" "malformed token"
st=$(curl -sS --cacert "$tls/cert.pem" -o "$T/body" -w '%{http_code}' -H "Authorization: Basic eDp5" "$URL/api/v1/vms")
expect_status 401 "$st" "basic auth"
expect_status 200 "$(tapi "" GET /api/v1/openapi.json)" "the document needs no token"

note "roles"
expect_status 200 "$(tapi "$view" GET /api/v1/vms)" "viewer reads"
assert_eq "$(jq -r '.[0].name' "$T/body")" web "vm list over TLS"
expect_status 200 "$(tapi "$view" GET /api/v1/host)" "viewer reads the host"
expect_status 403 "$(tapi "$view" POST /api/v1/vms/web/stop)" "viewer may not stop"
expect_status 409 "$(tapi "$op" POST /api/v1/vms/web/stop)" "operator may (it is not running)"
expect_status 403 "$(tapi "$op" POST /api/v1/vms/web/start -d '{"kernel":"/etc/hostname"}')" \
	"operator may not pick a kernel"
expect_status 409 "$(tapi "$adm" POST /api/v1/vms/web/stop)" "admin may"

note "audit"
log=$VHDVISOR_STATE/audit.log
grep -q " token:ci POST /api/v1/vms/web/stop 409$" "$log" || fail "audit: $(cat "$log")"
grep -q " token:ro POST /api/v1/vms/web/stop 403$" "$log" || fail "refusals are audited too"
grep -q " token:boss POST /api/v1/vms/web/stop 409$" "$log" || fail "admin audited"

note "revoke"
vv token revoke ro >/dev/null
expect_status 401 "$(tapi "$view" GET /api/v1/vms)" "revoked token"
expect_status 200 "$(tapi "$op" GET /api/v1/vms)" "the others still work"
expect_exit 1 vv token revoke ro
assert_stderr "no such token"

note "TLS only on TCP"
port=${URL##*:}
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/api/v1/vms" || true)
[[ $code == 200 ]] && fail "plain HTTP served"
curl -s -o /dev/null --max-time 5 "$URL/api/v1/openapi.json" && fail "curl trusted an unknown certificate"

note "failed logins are rate-limited"
n401=0
for i in $(seq 1 20); do
	st=$(tapi "vvt_$(printf '%064x' "$i")" GET /api/v1/vms)
	[[ $st == 429 ]] && break
	expect_status 401 "$st" "bad token $i"
	n401=$((n401 + 1))
done
expect_status 429 "$st" "after $n401 failures"
((n401 <= 10)) || fail "$n401 failures before the limit"
jq -e '.error | test("retry in [0-9]+ s")' "$T/body" >/dev/null || fail "429: $(cat "$T/body")"
expect_status 429 "$(tapi "$op" GET /api/v1/vms)" "even a good token, from this address"
expect_status 200 "$(api GET /api/v1/vms)" "the Unix socket is another client"

note "the certificate survives a restart"
daemon_stop
daemon_start --listen 127.0.0.1:0
assert_eq "$(jq -r .fingerprint "$VHDVISOR_RUN/vhdvisord.json")" "$fp" "same certificate"
expect_status 200 "$(tapi "$op" GET /api/v1/vms)" "after restart"
daemon_stop
