#!/bin/sh
# tests/run.sh - the whole suite, as `make test` runs it (after building
# build/ and the ASan+UBSan build-san/):
#
#   1. unit tests (cmocka), normal and sanitizer builds;
#   2. a throwaway PostgreSQL server (tests/lib/pg.sh) for the database tests;
#   3. API tests: the real binary on loopback, on SQLite and on PostgreSQL,
#      normal and sanitizer builds.
#
# Ends with "N passed, N failed" and exits non-zero when anything failed.
#   --unit-only       only step 1 (no PostgreSQL)
#   --builds "build"  which build directories to run (default "build build-san")
#   --filter NAME     only test programs whose name contains NAME
set -u
cd "$(dirname "$0")/.."
UNIT_ONLY=0
BUILDS="build build-san"
FILTER=""
while [ $# -gt 0 ]; do
	case "$1" in
	--unit-only) UNIT_ONLY=1 ;;
	--builds) BUILDS=$2; shift ;;
	--filter) FILTER=$2; shift ;;
	*) echo "usage: tests/run.sh [--unit-only] [--builds DIRS] [--filter NAME]" >&2; exit 2 ;;
	esac
	shift
done

LOGDIR=$(mktemp -d /tmp/clinicledger-tests-XXXXXX)
PASSED=0
FAILED=0
FAILED_NAMES=""
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}"

# run_one LABEL CMD...: run a cmocka program, add its counts to the totals.
run_one() {
	label=$1
	shift
	log="$LOGDIR/$(echo "$label" | tr '/ :' '___').log"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	# cmocka's summary lines, or a plain closing "N passed, N failed" line (suites)
	# (a program may run several groups: add their lines up)
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ n += $1 } END { if (NR) print n }')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ n += $1 } END { if (NR) print n }')
	if [ -z "$p$f" ]; then
		p=$(sed -n 's/^\([0-9][0-9]*\) passed, [0-9][0-9]* failed.*/\1/p' "$log" | tail -n 1)
		f=$(sed -n 's/^[0-9][0-9]* passed, \([0-9][0-9]*\) failed.*/\1/p' "$log" | tail -n 1)
	fi
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed, sanitizer report, or failed before running tests
	fi
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
		[ "$f" -eq 0 ] && f=1
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	if [ "$f" -ne 0 ]; then
		FAILED_NAMES="$FAILED_NAMES $label"
		echo "FAIL $label: $p passed, $f failed (${secs}s)"
		grep -E '^\[  (FAILED|ERROR)  \]|^\[  ERROR   \]|error:|Error|Sanitizer|runtime error|harness:|server:' "$log" | head -n 40 | sed 's/^/    /'
	else
		echo "ok   $label: $p passed (${secs}s)"
	fi
}

matches() {
	[ -z "$FILTER" ] && return 0
	case "$1" in *"$FILTER"*) return 0 ;; esac
	return 1
}

PGDIR=""
cleanup() {
	[ -n "$PGDIR" ] && sh tests/lib/pg.sh stop "$PGDIR" >/dev/null 2>&1
}
trap cleanup EXIT INT TERM

if [ "$UNIT_ONLY" -eq 0 ] && [ -f tests/package-lock.json ]; then
	# node tooling of the tests (stripe's webhook signer, ajv): exactly the locked versions
	if ! npm ci --prefix tests --no-audit --no-fund --loglevel=error >"$LOGDIR/npm.log" 2>&1; then
		echo "FAIL npm ci --prefix tests (see $LOGDIR/npm.log)"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

if [ "$UNIT_ONLY" -eq 0 ]; then
	PGDIR=$(mktemp -d /tmp/clinicledger-pg-XXXXXX)
	if ! eval "$(sh tests/lib/pg.sh start "$PGDIR")"; then
		echo "FAIL could not start PostgreSQL for the tests"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "PostgreSQL for tests: $CLINICLEDGER_TEST_PG"
fi

for b in $BUILDS; do
	echo "== unit tests ($b)"
	for t in "$b"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		matches "$name" || continue
		run_one "$b/unit/$name" "$t"
	done
done

if [ "$UNIT_ONLY" -eq 0 ]; then
	for b in $BUILDS; do
		for backend in sqlite postgresql; do
			echo "== API tests ($b, $backend)"
			for t in "$b"/tests/api/test_*; do
				[ -x "$t" ] || continue
				name=$(basename "$t")
				matches "$name" || continue
				if [ "$backend" = sqlite ]; then
					run_one "$b/api/$backend/$name" env -u CLINICLEDGER_TEST_PG CLINICLEDGER_TEST_BIN="$b/clinicledger" "$t"
				else
					run_one "$b/api/$backend/$name" env CLINICLEDGER_TEST_BIN="$b/clinicledger" "$t"
				fi
			done
		done
	done
fi

# Suites: tests/suites/<name>.sh BUILD_DIR, each ending with "N passed, N failed"
# (e.g. the DTE schema corpus validated with ajv). Node tooling comes from tests/package.json.
if [ "$UNIT_ONLY" -eq 0 ] && ls tests/suites/*.sh >/dev/null 2>&1; then
	for b in $BUILDS; do
		echo "== suites ($b)"
		for s in tests/suites/*.sh; do
			name=$(basename "$s" .sh)
			matches "$name" || continue
			run_one "$b/suite/$name" sh "$s" "$b"
		done
	done
fi

echo
if [ -n "$FAILED_NAMES" ]; then
	echo "failed:$FAILED_NAMES"
	echo "logs in $LOGDIR"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
