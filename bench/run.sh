#!/bin/sh
# bench/run.sh - load run of the invoices API on SQLite (not part of `make test`).
#
# Starts its own server (BENCH_BIN, default build/clinicledger; SQLite in a
# temporary directory, synchronous=FULL as always, log level warn, rate limit
# off), logs in, creates a patient and one invoice, then runs with wrk, each
# for BENCH_SECONDS (default 10) at BENCH_CONNECTIONS (default 64):
#   GET  /health                                  the trivial baseline
#   POST /api/v1/invoices                          two lines (invoices_create.lua)
#   GET  /api/v1/invoices/:id                      (invoices_get.lua)
#   GET  /api/v1/invoices?status=pending&limit=20  (invoices_list.lua)
# and prints requests/s, p50 and p99 latency, errors (non-2xx responses and
# socket errors), each scenario's throughput as a share of /health's, and
# the CPU split (server / everything else) during the scenario.
# After the creations it checks that every acknowledged invoice is in the
# database. Exits non-zero on errors. Method and figures: docs/performance.md.
#
# Env: BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_WRK_THREADS (default 2),
# BENCH_BIN, BENCH_HTTP_THREADS (server threads, default 128), BENCH_DB_POOL
# (default 32), BENCH_KEEP=1 keeps the temporary directory (wrk reports,
# server log, database).
set -eu
cd "$(dirname "$0")/.."
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-2}
BIN=${BENCH_BIN:-build/clinicledger}
. bench/lib.sh

[ -x "$BIN" ] || { echo "bench: $BIN not found; build it first (make)" >&2; exit 2; }
bench_need_wrk
trap bench_cleanup EXIT INT TERM
bench_start "$BIN"
bench_login
bench_patient
seed=$(curl -s -X POST "$BENCH_URL/api/v1/invoices" -H "Authorization: Bearer $BENCH_TOKEN" \
	-H 'Content-Type: application/json' \
	-d "{\"patientId\":\"$BENCH_PATIENT\",\"currency\":\"USD\",\"status\":\"pending\",\"lineItems\":[{\"itemName\":\"Seed\",\"quantity\":1,\"unitPrice\":10}]}")
INVOICE=$(printf '%s' "$seed" | sed -n 's/.*"data":{"id":"\([^"]*\)".*/\1/p')
[ -n "$INVOICE" ] || { echo "bench: invoice not created: $seed" >&2; exit 1; }

echo "clinicledger bench: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)"
echo "SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), synchronous=FULL; wrk $BENCH_WRK_THREADS threads," \
	"$BENCH_CONNECTIONS connections, ${BENCH_SECONDS}s per scenario; server $BIN"
echo
printf '%-46s %10s %9s %9s %7s %9s %11s\n' "scenario" "req/s" "p50 ms" "p99 ms" "errors" "vs health" "cpu srv/rest"

health_rps=0
failed=0
row() {
	ratio="-"
	if [ "$1" != "GET /health" ]; then
		ratio=$(awk -v a="$BENCH_R_RPS" -v b="$health_rps" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }')
	fi
	cpu=$(echo "$BENCH_R_CPU" | awk '{ printf "%d%%/%d%%", $1, $2 }')
	printf '%-46s %10s %9s %9s %7s %9s %11s\n' "$1" "$BENCH_R_RPS" "$BENCH_R_P50" "$BENCH_R_P99" "$BENCH_R_ERRORS" "$ratio" "$cpu"
	[ "$BENCH_R_ERRORS" -eq 0 ] || failed=1
}

bench_wrk health "" /health
health_rps=$BENCH_R_RPS
row "GET /health"

before=$(sqlite3 "$BENCH_DIR/bench.db" "SELECT COUNT(*) FROM billing_documents" 2>/dev/null || echo 0)
bench_wrk create bench/invoices_create.lua /api/v1/invoices
row "POST /api/v1/invoices (2 lines)"
acked=$(( ${BENCH_R_REQS:-0} - BENCH_R_ERRORS ))

bench_wrk get bench/invoices_get.lua "/api/v1/invoices/$INVOICE"
row "GET /api/v1/invoices/:id"

bench_wrk list bench/invoices_list.lua "/api/v1/invoices?status=pending&limit=20"
row "GET /api/v1/invoices?status=pending&limit=20"

bench_stop
after=$(sqlite3 "$BENCH_DIR/bench.db" "SELECT COUNT(*) FROM billing_documents" 2>/dev/null || echo "?")
echo
if [ "$after" = "?" ]; then
	echo "durability: sqlite3 not installed, stored invoices not counted"
elif [ $((after - before)) -ge "$acked" ]; then
	echo "durability: $acked invoice creations acknowledged, $((after - before)) stored (a request in flight at the end may be stored unacknowledged)"
else
	echo "durability: FAILED: $acked acknowledged but only $((after - before)) stored"
	failed=1
fi
echo "cpu srv/rest: the server's and everything else's (wrk, and any other load) share of the machine's 2 cores;"
echo "a large 'rest' beyond wrk's own ~10% means the figures were disturbed by other processes."
[ -n "${BENCH_KEEP:-}" ] && echo "reports and server log: $BENCH_DIR"
exit "$failed"
