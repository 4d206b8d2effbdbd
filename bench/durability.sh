#!/bin/sh
# bench/durability.sh - kill -9 the server during concurrent invoice creations
# and check that every invoice it acknowledged is in the database.
#
# Starts its own server (BENCH_BIN, default build/clinicledger; SQLite,
# synchronous=FULL), runs POST /api/v1/invoices from BENCH_CONNECTIONS
# (default 64) connections with bench/invoices_create_record.lua, which
# appends the id of every 201 response to a file as it arrives, kills the
# server with SIGKILL after BENCH_KILL_AFTER seconds (default 3) while wrk
# keeps going, then opens the database (SQLite recovers the WAL as after a
# crash) and compares. Exits non-zero when an acknowledged id is missing.
# Repeat with BENCH_ROUNDS (default 3). Not part of `make test`; the API
# test test_platform covers kill -9 for sequential writes.
set -eu
cd "$(dirname "$0")/.."
BENCH_SECONDS=${BENCH_SECONDS:-6}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-2}
KILL_AFTER=${BENCH_KILL_AFTER:-3}
ROUNDS=${BENCH_ROUNDS:-3}
BIN=${BENCH_BIN:-build/clinicledger}
. bench/lib.sh

[ -x "$BIN" ] || { echo "bench: $BIN not found; build it first (make)" >&2; exit 2; }
command -v sqlite3 >/dev/null 2>&1 || { echo "bench: the sqlite3 client is required" >&2; exit 2; }
bench_need_wrk
trap bench_cleanup EXIT INT TERM
failed=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
	bench_start "$BIN"
	bench_login
	bench_patient
	export BENCH_OUT="$BENCH_DIR"
	wrk -t"$BENCH_WRK_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --timeout 5s \
		-s bench/invoices_create_record.lua "$BENCH_URL/api/v1/invoices" >"$BENCH_DIR/wrk.txt" 2>&1 &
	wrk_pid=$!
	sleep "$KILL_AFTER"
	kill -9 "$BENCH_PID"
	wait "$BENCH_PID" 2>/dev/null || true
	BENCH_PID=""
	wait "$wrk_pid" 2>/dev/null || true
	cat "$BENCH_DIR"/acked-*.txt 2>/dev/null | sort -u >"$BENCH_DIR/acked.txt"
	sqlite3 "$BENCH_DIR/bench.db" "SELECT id FROM billing_documents" | sort -u >"$BENCH_DIR/stored.txt"
	acked=$(wc -l <"$BENCH_DIR/acked.txt")
	stored=$(wc -l <"$BENCH_DIR/stored.txt")
	missing=$(comm -23 "$BENCH_DIR/acked.txt" "$BENCH_DIR/stored.txt" | wc -l)
	integrity=$(sqlite3 "$BENCH_DIR/bench.db" "PRAGMA integrity_check" | head -n 1)
	echo "round $round: killed after ${KILL_AFTER}s: $acked acknowledged, $stored stored, $missing missing, integrity $integrity"
	if [ "$missing" -ne 0 ] || [ "$acked" -eq 0 ] || [ "$integrity" != "ok" ]; then
		failed=1
		comm -23 "$BENCH_DIR/acked.txt" "$BENCH_DIR/stored.txt" | head -n 5 | sed 's/^/  missing: /'
	fi
	bench_cleanup
	round=$((round + 1))
done
[ "$failed" -eq 0 ] && echo "durability: every acknowledged invoice survived kill -9" || echo "durability: FAILED"
exit "$failed"
