# bench/lib.sh - shared by bench/run.sh and bench/durability.sh (sourced).
#
# bench_need_wrk          install wrk (Debian package) when missing
# bench_start BIN         start BIN serve on a free loopback port with SQLite in a
#                         new temporary directory; sets BENCH_DIR BENCH_URL BENCH_PID
# bench_login             sets BENCH_TOKEN (the bootstrap admin's access token)
# bench_patient           sets BENCH_PATIENT (a new patient's id)
# bench_stop              SIGTERM the server (kill -9 is bench/durability.sh's)
# bench_cleanup           stop and remove BENCH_DIR (unless BENCH_KEEP is set)
# bench_wrk NAME SCRIPT PATH   run wrk, parse its report into BENCH_R_* variables

BENCH_EMAIL=bench@bench.test
BENCH_PASSWORD=Bench-Pass-2025

bench_need_wrk() {
	command -v wrk >/dev/null 2>&1 && return 0
	echo "bench: installing wrk (Debian package)" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends wrk >&2 ||
		{ $SUDO apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q wrk >&2; }
	command -v wrk >/dev/null 2>&1 || { echo "bench: wrk is required" >&2; exit 2; }
}

# A loopback port nobody listens on.
bench_port() {
	p=$((20000 + $$ % 20000))
	while curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

bench_start() {
	BENCH_BIN=$1
	BENCH_DIR=$(mktemp -d /tmp/clinicledger-bench-XXXXXX)
	BENCH_PORT=$(bench_port)
	BENCH_URL="http://127.0.0.1:$BENCH_PORT"
	(
		export CLINICLEDGER_LISTEN="127.0.0.1:$BENCH_PORT"
		export CLINICLEDGER_DATA_DIR="$BENCH_DIR"
		export CLINICLEDGER_DB="$BENCH_DIR/bench.db"
		export CLINICLEDGER_LOG_LEVEL=warn
		export CLINICLEDGER_RATE_LIMIT=0
		export CLINICLEDGER_ACCESS_TTL=3600
		export CLINICLEDGER_BOOTSTRAP_EMAIL="$BENCH_EMAIL"
		export CLINICLEDGER_BOOTSTRAP_PASSWORD="$BENCH_PASSWORD"
		export CLINICLEDGER_HTTP_THREADS="${BENCH_HTTP_THREADS:-128}"
		export CLINICLEDGER_DB_POOL="${BENCH_DB_POOL:-32}"
		exec "$BENCH_BIN" serve >"$BENCH_DIR/server.log" 2>&1
	) &
	BENCH_PID=$!
	i=0
	until curl -sf -o /dev/null "$BENCH_URL/health"; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$BENCH_PID" 2>/dev/null; then
			echo "bench: the server did not start; see $BENCH_DIR/server.log" >&2
			cat "$BENCH_DIR/server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

bench_login() {
	out=$(curl -s -X POST "$BENCH_URL/api/v1/auth/login" -H 'Content-Type: application/json' \
		-d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}")
	BENCH_TOKEN=$(printf '%s' "$out" | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
	[ -n "$BENCH_TOKEN" ] || { echo "bench: login failed: $out" >&2; exit 1; }
	export BENCH_TOKEN
}

bench_patient() {
	out=$(curl -s -X POST "$BENCH_URL/api/patients" -H "Authorization: Bearer $BENCH_TOKEN" \
		-H 'Content-Type: application/json' -d '{"firstName":"Ana","lastName":"Bench"}')
	BENCH_PATIENT=$(printf '%s' "$out" | sed -n 's/.*"data":{"id":"\([^"]*\)".*/\1/p')
	[ -n "$BENCH_PATIENT" ] || { echo "bench: patient not created: $out" >&2; exit 1; }
	export BENCH_PATIENT
}

bench_stop() {
	if [ -n "${BENCH_PID:-}" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
		kill "$BENCH_PID" 2>/dev/null || true
		wait "$BENCH_PID" 2>/dev/null || true
	fi
	BENCH_PID=""
}

bench_cleanup() {
	bench_stop
	if [ -n "${BENCH_DIR:-}" ] && [ -z "${BENCH_KEEP:-}" ]; then
		rm -rf "$BENCH_DIR"
	fi
}

# wrk latency ("490.00us", "11.20ms", "1.02s", "1.50m") in milliseconds.
bench_ms() {
	echo "$1" | awk '{ v = $1 + 0; u = $1; sub(/^[0-9.]+/, "", u);
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
		printf "%.2f", v }'
}

# "total idle server" jiffies now: the machine's (all cores; idle includes
# iowait) and the server process's.
bench_cpu() {
	t=$(head -n 1 /proc/stat | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }')
	s=$(awk '{ print $14 + $15 }' "/proc/$BENCH_PID/stat" 2>/dev/null || echo 0)
	echo "$t $s"
}

# bench_wrk NAME SCRIPT PATH: one wrk run of BENCH_SECONDS at BENCH_CONNECTIONS.
# Sets BENCH_R_RPS, BENCH_R_P50, BENCH_R_P99 (ms), BENCH_R_REQS, BENCH_R_ERRORS
# (non-2xx/3xx responses + socket errors), BENCH_R_CPU ("S R": the server's
# and everything else's share of the machine's CPU time, wrk included, in %);
# the raw report goes to BENCH_DIR/wrk-NAME.txt.
bench_wrk() {
	name=$1
	script=$2
	path=$3
	report="$BENCH_DIR/wrk-$name.txt"
	cpu0=$(bench_cpu)
	if [ -n "$script" ]; then
		wrk -t"$BENCH_WRK_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --timeout 10s --latency \
			-s "$script" "$BENCH_URL$path" >"$report" 2>&1 || true
	else
		wrk -t"$BENCH_WRK_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --timeout 10s --latency \
			"$BENCH_URL$path" >"$report" 2>&1 || true
	fi
	cpu1=$(bench_cpu)
	BENCH_R_CPU=$(echo "$cpu0 $cpu1" | awk '{ t = $4 - $1; if (t <= 0) t = 1;
		printf "%d %d", 100 * ($6 - $3) / t, 100 * ((t - ($5 - $2)) - ($6 - $3)) / t }')
	BENCH_R_RPS=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$report")
	BENCH_R_P50=$(bench_ms "$(awk '$1 == "50%" { print $2 }' "$report")")
	BENCH_R_P99=$(bench_ms "$(awk '$1 == "99%" { print $2 }' "$report")")
	BENCH_R_REQS=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$report")
	non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$report")
	sock=$(sed -n 's/^ *Socket errors: *connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' \
		"$report" | awk '{ print $1 + $2 + $3 + $4 }')
	BENCH_R_ERRORS=$(( ${non2xx:-0} + ${sock:-0} ))
	if [ -z "$BENCH_R_RPS" ]; then
		echo "bench: wrk failed for $name:" >&2
		cat "$report" >&2
		BENCH_R_RPS=0
		BENCH_R_ERRORS=$((BENCH_R_ERRORS + 1))
	fi
}
