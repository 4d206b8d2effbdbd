#!/bin/sh
# run.sh - what `make run` does after building: start the server on its
# embedded defaults (SQLite at ./data/clinicledger.db, 127.0.0.1:8080).
# On first start the server creates the demo tenant and an admin user and
# prints how to log in. Stop with Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
mkdir -p "${CLINICLEDGER_DATA_DIR:-./data}"
echo "clinicledger: starting on http://${CLINICLEDGER_LISTEN:-127.0.0.1:8080} (database ${CLINICLEDGER_DB:-./data/clinicledger.db})"
exec ./build/clinicledger serve
