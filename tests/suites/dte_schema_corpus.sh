#!/bin/sh
# dte_schema_corpus.sh BUILD_DIR - the DTE schema corpus: BUILD_DIR's
# tests/tools/dte_corpus writes a corpus of documents of every type (see
# tests/tools/dte_corpus.c), then tests/dte/validate.mjs validates each one
# with ajv against MH's official schema (tests/fixtures/dte-sv/). The last
# line is the validator's "N passed, N failed" (documents); a generator
# failure (a refusal it did not expect, or a document dte_verify rejects)
# counts as one failure.
#
#   DTE_CORPUS_COUNT (default 2000) and DTE_CORPUS_SEED (default 1) vary it;
#   the corpus is deterministic for a given count and seed.
set -u
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-build}
GEN="$BUILD_DIR/tests/tools/dte_corpus"
COUNT=${DTE_CORPUS_COUNT:-2000}
SEED=${DTE_CORPUS_SEED:-1}

if [ ! -x "$GEN" ]; then
	echo "FAIL $GEN is missing (make BUILD=$BUILD_DIR $GEN)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -d tests/node_modules/ajv ] || [ ! -d tests/node_modules/ajv-formats ]; then
	if ! npm ci --prefix tests --no-audit --no-fund --loglevel=error >/dev/null 2>&1; then
		echo "FAIL npm ci --prefix tests (ajv, ajv-formats)"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

OUT=$(mktemp -d /tmp/clinicledger-dte-corpus-XXXXXX)
trap 'rm -rf "$OUT"' EXIT INT TERM
if ! "$GEN" "$OUT/docs" "$COUNT" "$SEED"; then
	echo "FAIL $GEN $COUNT $SEED"
	echo "0 passed, 1 failed"
	exit 1
fi
node tests/dte/validate.mjs "$OUT/docs"
