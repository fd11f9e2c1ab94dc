#!/bin/bash
# The web console end to end: vhdvisord serves BUILD/share/vhdvisor/web at
# / over HTTPS; web_console.cjs drives headless Chromium (playwright-core,
# /usr/bin/chromium) with a real TCG guest: a wrong token is refused; the
# operator sees the dashboard and the VM list, starts the VM from its page,
# sees the boot marker on the console (xterm.js over the WebSocket), logs
# in and runs a command; a viewer sees no start/stop button and the API
# refuses the viewer's forged POST with 403; axe-core finds no serious or
# critical violation on each view; Tab reaches every control of the VM list; the viewer's list turns to stopped by the
# event stream when the VM is stopped elsewhere. Also: the static files' paths,
# types and methods. The images, labs and tasks views list the catalog's. Screenshots in $VV_BUILD/web-shots/.
# serial
# timeout: 400
source "$VV_ROOT/tests/integration/lib.sh"
source "$VV_ROOT/tests/integration/images/lib_images.sh"
source "$VV_ROOT/tests/integration/appliance/lib_daemon.sh"
need_cmd jq curl node qemu-system-x86_64
[[ -x /usr/bin/chromium ]] || skip "no /usr/bin/chromium"
WEB_NPM=${VHDVISOR_WEB_NPM:-${VHDVISOR_CACHE:-/var/cache/vhdvisor}/web-npm}
[[ -d $WEB_NPM/node_modules/playwright-core && -d $WEB_NPM/node_modules/axe-core ]] || skip "no playwright-core in $WEB_NPM (make builds it)"
[[ -s $VV_BUILD/share/vhdvisor/web/app.js ]] || fail "the web console was not built"
export PATH=$VV_BUILD/bin:$PATH
tiny_template
vv vm create c --from tiny >/dev/null
vv lab create l --from tiny --count 2 >/dev/null
at_exit '"$VHDVISOR" vm stop c'
view=$(vv token create ro --role viewer 2>/dev/null)
op=$(vv token create ops --role operator 2>/dev/null)
daemon_start --listen 127.0.0.1:0

note "the files: paths, types, methods"
web() { curl -sS --path-as-is --cacert "$VHDVISOR_STATE/tls/cert.pem" -o "$T/body" \
	-w '%{http_code} %{content_type}' "$@"; }
assert_eq "200 text/html; charset=utf-8" "$(web "$URL/")" "GET /"
grep -q '<script src="/app.js">' "$T/body" || fail "index.html"
assert_eq "200 text/javascript; charset=utf-8" "$(web "$URL/app.js")" "app.js"
assert_eq "200 text/css; charset=utf-8" "$(web "$URL/app.css")" "app.css"
for p in /nosuch.js /../etc/passwd /%2e%2e/x /.hidden /a/b/c '/app.js%00'; do
	assert_eq "404 application/json" "$(web "$URL$p")" "GET $p"
	jq -e '.code == 404' "$T/body" >/dev/null || fail "GET $p: not a JSON error"
done
assert_eq 405 "$(web -X POST "$URL/" | cut -d' ' -f1)" "POST /"
expect_status 401 "$(tapi "" GET /api/v1/host)" "the API still wants a token"
size=0
for p in / /app.js /app.css; do
	n=$(curl -sS --cacert "$VHDVISOR_STATE/tls/cert.pem" -H 'Accept-Encoding: gzip' -D "$T/hdr" \
		-o "$T/gz" -w '%{size_download}' "$URL$p")
	[[ $p == / ]] || { grep -qi '^content-encoding: gzip' "$T/hdr" && gzip -t "$T/gz"; } ||
		fail "$p: not sent gzipped"
	size=$((size + n))
done
cmp <(curl -sS --cacert "$VHDVISOR_STATE/tls/cert.pem" --compressed "$URL/app.js") \
	"$VV_BUILD/share/vhdvisor/web/app.js" || fail "app.js gunzipped differs"
note "first load: $size bytes on the wire (gzip)"
((size < 300 * 1024)) || fail "first load $size bytes gzip, over 300 KB"

note "the browser"
SHOTS=$VV_BUILD/web-shots
mkdir -p "$SHOTS"
URL=$URL OP=$op VIEW=$view SHOTS=$SHOTS WEB_NPM=$WEB_NPM VM=c \
	node "$VV_ROOT/tests/integration/appliance/web_console.cjs" >"$T/web.out" 2>&1 ||
	{ cat "$T/web.out"; fail "web console in Chromium"; }
cat "$T/web.out"
grep -q "token:ops POST /api/v1/vms/c/start 200" "$VHDVISOR_STATE/audit.log" ||
	fail "the start was not the operator's"
grep -q "token:ro POST /api/v1/vms/c/stop 403" "$VHDVISOR_STATE/audit.log" ||
	fail "the viewer's forged stop was not refused"
daemon_stop
