#!/bin/bash
# vhdvisord's token routes over HTTPS: an admin lists, creates (the secret
# is in that reply only, and works at once) and revokes tokens (it stops
# working at once); bad names, roles and types get 400, a taken name 409,
# an unknown one 404; operators and viewers get 403. The CLI sees the same
# tokens; no secret reaches the token file, the audit log or a listing.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl

adm=$(vv token create boss --role admin 2>/dev/null)
op=$(vv token create ci --role operator 2>/dev/null)
view=$(vv token create ro --role viewer 2>/dev/null)
daemon_start --listen 127.0.0.1:0
export CALL_TOKEN=$adm
refused() {	# refused WANT WHAT METHOD PATH [CURL ARGS]: as admin
	local want=$1 what=$2
	shift 2
	expect_status "$want" "$(tapi "$adm" "$@")" "$what"
}

note "create: the secret once, working at once"
expect_status 200 "$(call POST /api/v1/tokens /api/v1/tokens -d '{"name":"web-1","role":"viewer"}')" "create"
secret=$(jq -r .secret "$T/body")
[[ $secret =~ ^vvt_[0-9a-f]{64}$ ]] || fail "secret: $secret"
assert_eq "$(jq -r '[.name, .role] | join(" ")' "$T/body")" "web-1 viewer" "create reply"
(($(jq -r .created "$T/body") > 0)) || fail "no creation time: $(cat "$T/body")"
expect_status 200 "$(tapi "$secret" GET /api/v1/vms)" "the new token reads"
expect_status 403 "$(tapi "$secret" POST /api/v1/vms -d '{"name":"x","image":"y"}')" "... as a viewer"
grep -q "${secret#vvt_}" "$VHDVISOR_STATE/tokens" && fail "the secret is stored in clear"

note "list, as the CLI"
expect_status 200 "$(call GET /api/v1/tokens /api/v1/tokens)" "list"
assert_eq "$(jq -c . "$T/body")" "$(vv token list --json | jq -c .)" "list as the CLI"
assert_eq "$(jq -r 'map(.name + ":" + .role) | join(",")' "$T/body")" \
	"boss:admin,ci:operator,ro:viewer,web-1:viewer" "token names"
jq -e 'all(.[]; has("secret") or has("hash") | not)' "$T/body" >/dev/null || fail "a listing shows secrets"

note "bad input"
refused 409 "a taken name" POST /api/v1/tokens -d '{"name":"ci","role":"admin"}'
refused 400 "a bad role" POST /api/v1/tokens -d '{"name":"x","role":"root"}'
refused 400 "no role" POST /api/v1/tokens -d '{"name":"x"}'
refused 400 "role none" POST /api/v1/tokens -d '{"name":"x","role":"none"}'
refused 400 "no name" POST /api/v1/tokens -d '{"role":"viewer"}'
refused 400 "a name with /" POST /api/v1/tokens -d '{"name":"a/b","role":"viewer"}'
refused 400 "a name with :" POST /api/v1/tokens -d '{"name":"a:b","role":"viewer"}'
refused 400 "a name of 65" POST /api/v1/tokens -d "{\"name\":\"$(printf 'a%.0s' {1..65})\",\"role\":\"viewer\"}"
refused 400 "role as a number" POST /api/v1/tokens -d '{"name":"x","role":3}'
refused 400 "an unknown field" POST /api/v1/tokens -d '{"name":"x","role":"viewer","ttl":"1d"}'
refused 400 "a body on revoke" DELETE /api/v1/tokens/ci -d '{"x":"y"}'
refused 404 "revoke an unknown token" DELETE /api/v1/tokens/nosuch

note "admin only"
for t in "$op" "$view"; do
	expect_status 403 "$(tapi "$t" GET /api/v1/tokens)" "list below admin"
	expect_status 403 "$(tapi "$t" POST /api/v1/tokens -d '{"name":"x","role":"admin"}')" "create below admin"
	expect_status 403 "$(tapi "$t" DELETE /api/v1/tokens/boss)" "revoke below admin"
done
expect_status 401 "$(tapi "" GET /api/v1/tokens)" "no token"
assert_eq "$(vv token list --json | jq -r 'map(.name) | join(",")')" "boss,ci,ro,web-1" "refusals changed nothing"

note "revoke: the token stops working at once"
expect_status 200 "$(call DELETE /api/v1/tokens/{name} /api/v1/tokens/web-1)" "revoke"
expect_status 401 "$(tapi "$secret" GET /api/v1/vms)" "a revoked token"
refused 404 "revoke it again" DELETE /api/v1/tokens/web-1
assert_eq "$(vv token list --json | jq -r 'map(.name) | join(",")')" "boss,ci,ro" "after revoke"

note "audit, without secrets"
log=$VHDVISOR_STATE/audit.log
grep -q " token:boss POST /api/v1/tokens 200$" "$log" || fail "no audit of create: $(cat "$log")"
grep -q " token:ci DELETE /api/v1/tokens/boss 403$" "$log" || fail "no audit of a refused revoke"
grep -q " token:boss DELETE /api/v1/tokens/web-1 200$" "$log" || fail "no audit of revoke"
grep -rq "${secret#vvt_}" "$VHDVISOR_STATE" "$T/daemon.log" && fail "the secret was written somewhere"
daemon_stop
true
