# tests/integration/appliance/lib_daemon.sh: running vhdvisord in tests.
# Sourced after lib.sh and images/lib_images.sh (which give the test its
# own $VHDVISOR_STATE and $VHDVISOR_RUN).

VHDVISORD=${VHDVISORD:-$VV_BUILD/bin/vhdvisord}
SOCK=$VHDVISOR_RUN/vhdvisord.sock

# daemon_start [ARGS...]: starts vhdvisord on the test's state and run
# directories (stderr to $T/daemon.log), waits until it listens; its pid
# in $DAEMON_PID, its HTTPS URL (with --listen) in $URL.
daemon_start() {
	rm -f "$VHDVISOR_RUN/vhdvisord.json"
	"$VHDVISORD" --state "$VHDVISOR_STATE" --run "$VHDVISOR_RUN" "$@" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	at_exit "kill -9 $DAEMON_PID"
	for _ in $(seq 1 100); do
		[[ -s $VHDVISOR_RUN/vhdvisord.json ]] && break
		kill -0 $DAEMON_PID 2>/dev/null || { cat "$T/daemon.log" >&2; fail "vhdvisord died"; }
		sleep 0.1
	done
	[[ -s $VHDVISOR_RUN/vhdvisord.json ]] || fail "vhdvisord did not come up"
	URL=$(jq -r '.url // empty' "$VHDVISOR_RUN/vhdvisord.json")
}

# daemon_stop: SIGTERM, and it must exit 0.
daemon_stop() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || fail "vhdvisord exited $? on SIGTERM"
}

# api METHOD PATH [CURL ARGS...]: a request on the Unix socket (as root);
# the body to $T/body, prints the HTTP status.
api() {
	local m=$1 p=$2
	shift 2
	curl -sS --path-as-is --unix-socket "$SOCK" -X "$m" -o "$T/body" -w '%{http_code}' \
		"$@" "http://localhost$p"
}

# tapi TOKEN METHOD PATH [CURL ARGS...]: the same over HTTPS with a bearer
# token ("" for none), checking the server against its certificate.
tapi() {
	local tok=$1 m=$2 p=$3 auth=()
	shift 3
	[[ -n $tok ]] && auth=(-H "Authorization: Bearer $tok")
	curl -sS --cacert "$VHDVISOR_STATE/tls/cert.pem" -X "$m" -o "$T/body" -w '%{http_code}' \
		"${auth[@]}" "$@" "$URL$p"
}

# call METHOD PATTERN PATH [CURL ARGS...]: a request that names the route
# it covers (PATTERN as in the OpenAPI document, written out literally):
# on the Unix socket, or over HTTPS with $CALL_TOKEN when that is set
# (CALL_TOKEN=$tok call ...). test_daemon_api.sh checks that every route of
# the document is named by a call in some test_daemon_*.sh.
call() {
	local m=$1 pat=$2 p=$3
	shift 3
	echo "$m $pat" >>"$T/covered"
	if [[ -n ${CALL_TOKEN:-} ]]; then
		tapi "$CALL_TOKEN" "$m" "$p" "$@"
	else
		api "$m" "$p" "$@"
	fi
}

# expect_status WANT STATUS WHAT: also checks the error shape of a 4xx/5xx.
expect_status() {
	assert_eq "$2" "$1" "$3"
	if (($1 >= 400)); then
		jq -e --argjson c "$1" '(.error | type == "string") and .code == $c' "$T/body" \
			>/dev/null || fail "$3: not a JSON error: $(head -c 300 "$T/body")"
	fi
}

# gone PID: the process has exited (a zombie counts: this machine's init
# may not reap the VM runtimes it inherits).
gone() {
	[[ ! -e /proc/$1/stat ]] || [[ $(sed 's/.*) //' "/proc/$1/stat" | cut -c1) == Z ]]
}
