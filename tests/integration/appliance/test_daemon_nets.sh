#!/bin/bash
# vhdvisord's network routes, the daemon running in a network namespace of
# its own (as `vhdvisor net` does): an admin lists, creates (automatic or
# given subnet, DHCP) and removes lab networks; the bridges, dnsmasq and
# records are those `vhdvisor net` makes and sees. A network with a VM tap
# on its bridge is refused (409) unless forced. Bad names and subnets,
# wrong types, taken names and overlapping subnets get their 4xx and make
# nothing; operators get 403. A lab VM's NIC shows its network and MAC.
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/netback/nblib.sh"
need_cmd curl
mkdir -p -m 0700 "$VHDVISOR_STATE" "$VHDVISOR_RUN"
# the daemon, and every client, in the test's "host" namespace $H
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$H" "$VV_BUILD/bin/vhdvisord" >"$T/vhdvisord"
chmod 0700 "$T/vhdvisord"
VHDVISORD=$T/vhdvisord
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
curl() { ip netns exec "$H" curl "$@"; }
touch "$T/covered"

adm=$(vv token create boss --role admin 2>/dev/null)
op=$(vv token create ci --role operator 2>/dev/null)
daemon_start --listen 127.0.0.1:0
export CALL_TOKEN=$adm
refused() {	# refused WANT WHAT METHOD PATH [CURL ARGS]: as admin
	local want=$1 what=$2
	shift 2
	expect_status "$want" "$(tapi "$adm" "$@")" "$what"
}

note "create, as \`net create\` does"
expect_status 200 "$(call POST /api/v1/networks /api/v1/networks -d '{"name":"lab1"}')" "create lab1"
assert_eq "$(jq -r '[.name, .bridge, .subnet, .status.bridge_up] | join(" ")' "$T/body")" \
	"lab1 vvbr-lab1 10.213.0.0/24 true" "create reply"
expect_status 200 "$(tapi "$adm" POST /api/v1/networks \
	-d '{"name":"lab-two","subnet":"10.99.0.0/24","dhcp":true}')" "create lab-two"
vvh ip -o -4 addr show dev vvbr-lab-two | grep -q 'inet 10.99.0.1/24' || fail "vvbr-lab-two lacks its gateway"
pid=$(jq -r .status.dnsmasq_pid "$T/body")
[[ $pid -gt 0 ]] && alive "$pid" || fail "dnsmasq of lab-two not running (pid '$pid')"

note "list, as the CLI"
expect_status 200 "$(call GET /api/v1/networks /api/v1/networks)" "list"
assert_eq "$(jq -c . "$T/body")" "$(vv net list --json | jq -c .)" "list as the CLI"
assert_eq "$(jq -r 'map(.name) | join(",")' "$T/body")" "lab-two,lab1" "network names"
expect_status 200 "$(tapi "$op" GET /api/v1/networks)" "an operator reads networks"

note "bad input"
refused 400 "an upper-case name" POST /api/v1/networks -d '{"name":"Lab"}'
refused 400 "a name with /" POST /api/v1/networks -d '{"name":"a/b"}'
refused 400 "a name of 32" POST /api/v1/networks -d "{\"name\":\"$(printf 'a%.0s' {1..32})\"}"
refused 400 "no name" POST /api/v1/networks -d '{"dhcp":true}'
refused 400 "a bad subnet" POST /api/v1/networks -d '{"name":"x","subnet":"10.1.2.3/24"}'
refused 400 "dhcp as a string" POST /api/v1/networks -d '{"name":"x","dhcp":"yes"}'
refused 400 "an unknown field" POST /api/v1/networks -d '{"name":"x","vlan":"3"}'
refused 409 "a taken name" POST /api/v1/networks -d '{"name":"lab1"}'
refused 409 "an overlapping subnet" POST /api/v1/networks -d '{"name":"x","subnet":"10.99.0.0/16"}'
expect_status 403 "$(tapi "$op" POST /api/v1/networks -d '{"name":"x"}')" "operator create"
expect_status 403 "$(tapi "$op" DELETE /api/v1/networks/lab1)" "operator rm"
refused 404 "rm an unknown network" DELETE /api/v1/networks/nosuch
assert_eq "$(vv net list --json | jq -r 'map(.name) | join(",")')" "lab-two,lab1" "refusals made nothing"
vvh ip link show vvbr-x >/dev/null 2>&1 && fail "a refused create left a bridge"

note "a lab VM's NIC"
truncate -s 8M "$T/tmpl.raw"
vv image import "$T/tmpl.raw" --format raw --name tmpl >/dev/null
vv lab create l --from tmpl --count 1 --net lab1 >/dev/null
vm=$(vv vm list --json | jq -r '.[0].name')
expect_status 200 "$(api GET "/api/v1/vms/$vm/nics")" "nics"
assert_eq "$(jq -r '[.[0].network, .[0].mac, .[0].ip, length] | join(" ")' "$T/body")" \
	"lab1 $(vv vm show "$vm" --json | jq -r .mac)  1" "the NIC on lab1"

note "rm: refused while a VM tap is a port, unless forced"
vvh ip tuntap add dev vvtap$$ mode tap
vvh ip link set vvtap$$ master vvbr-lab1
refused 409 "rm with a tap attached" DELETE /api/v1/networks/lab1
vvh ip link show vvbr-lab1 >/dev/null || fail "the refused rm removed the bridge"
expect_status 200 "$(call DELETE /api/v1/networks/{name} /api/v1/networks/lab1 \
	-d '{"force":true}')" "forced rm"
vvh ip tuntap del dev vvtap$$ mode tap
expect_status 200 "$(tapi "$adm" DELETE /api/v1/networks/lab-two)" "rm lab-two"
assert_eq "$(vv net list --json | jq -c .)" "[]" "no network left"
alive "$pid" && fail "dnsmasq of lab-two still runs"
refused 404 "rm it again" DELETE /api/v1/networks/lab-two
grep -q " token:boss POST /api/v1/networks 200$" "$VHDVISOR_STATE/audit.log" || fail "no audit of create"
daemon_stop
assert_clean
true
