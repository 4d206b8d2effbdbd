#!/bin/sh
# run.sh - what `make run` does after building: start the server on its
# embedded defaults (SQLite at ./data/clinicledger.db, 127.0.0.1:8080) and,
# beside it, the local MH sandbox (build/clinicledger-mh-sandbox on
# 127.0.0.1:8181, docs/mh-sandbox.md), so a paid order becomes an accepted
# DTE with no internet (docs/dte-flow.md).
#
# On first start the server creates the demo tenant and an admin user and
# prints how to log in; this script then generates a demo emisor key pair
# (./data/dte-demo-key.pem, openssl), registers its public key with the
# sandbox (./data/mh-certs/<NIT>.pem) and makes the demo tenant that emisor
# (`clinicledger dte setup`). With DTE_MH_ENDPOINT already set (MH's test or
# production host) no sandbox is started and nothing is generated: use your
# own DTE_* configuration. Stop with Ctrl-C: the sandbox stops with the server.
set -eu
cd "$(dirname "$0")/.."
DATA="${CLINICLEDGER_DATA_DIR:-./data}"
mkdir -p "$DATA"
DEMO_NIT=06140507071048
DEMO_MH_PASSWORD='Demo-MH-Api-2025!'
SBX_PID=""
SRV_PID=""

stop_all() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
	[ -n "$SRV_PID" ] && wait "$SRV_PID" 2>/dev/null || true
	[ -n "$SBX_PID" ] && kill "$SBX_PID" 2>/dev/null || true
	[ -n "$SBX_PID" ] && wait "$SBX_PID" 2>/dev/null || true
}
trap 'stop_all; exit 0' INT TERM

if [ -z "${DTE_MH_ENDPOINT:-}" ]; then
	if [ ! -f "$DATA/dte-demo-key.pem" ]; then
		(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$DATA/dte-demo-key.pem" 2>/dev/null)
		echo "clinicledger: generated the demo DTE signing key $DATA/dte-demo-key.pem"
	fi
	mkdir -p "$DATA/mh-certs"
	openssl pkey -in "$DATA/dte-demo-key.pem" -pubout -out "$DATA/mh-certs/$DEMO_NIT.pem" 2>/dev/null
	./build/clinicledger-mh-sandbox --listen 127.0.0.1:8181 --certs "$DATA/mh-certs" \
		--user "$DEMO_NIT:$DEMO_MH_PASSWORD" --state "$DATA/mh-sandbox.json" &
	SBX_PID=$!
	export DTE_MH_ENDPOINT=http://127.0.0.1:8181
	export DTE_PRIVATE_KEY="${DTE_PRIVATE_KEY:-$DATA/dte-demo-key.pem}"
	export DTE_MH_USER="${DTE_MH_USER:-$DEMO_NIT}"
	export DTE_MH_PASSWORD="${DTE_MH_PASSWORD:-$DEMO_MH_PASSWORD}"
	export DTE_NIT_EMISOR="${DTE_NIT_EMISOR:-$DEMO_NIT}"
	echo "clinicledger: MH sandbox on $DTE_MH_ENDPOINT (state $DATA/mh-sandbox.json)"
fi

echo "clinicledger: starting on http://${CLINICLEDGER_LISTEN:-127.0.0.1:8080} (database ${CLINICLEDGER_DB:-./data/clinicledger.db})"
./build/clinicledger serve &
SRV_PID=$!

# First start with the sandbox: the demo tenant becomes its emisor (once; later
# changes made through PUT /api/v1/tenant are kept).
if [ -n "$SBX_PID" ] && [ ! -f "$DATA/.dte-demo-issuer" ]; then
	i=0
	while [ $i -lt 100 ]; do
		if ./build/clinicledger dte setup --tenant demo --nit "$DEMO_NIT" --nrc 1234567 \
			--nombre "Demo Clinic S.A. de C.V." --nombre-comercial "Demo Clinic" \
			--responsable-nombre "Demo Administrator" --responsable-tipo 36 \
			--responsable-doc "$DEMO_NIT" >/dev/null 2>&1; then
			touch "$DATA/.dte-demo-issuer"
			echo "clinicledger: the demo tenant issues DTEs (NIT $DEMO_NIT) through the sandbox"
			break
		fi
		kill -0 "$SRV_PID" 2>/dev/null || break
		i=$((i + 1))
		sleep 0.2
	done
fi

set +e
wait "$SRV_PID"
status=$?
SRV_PID=""
stop_all
exit $status
