#!/bin/sh
# install-deps.sh - install the Debian packages clinicledger needs, if missing.
# Runs apt-get (through sudo when not root). Used by `make run` and `make test`.
set -eu
PKGS="build-essential pkg-config libulfius-dev libjansson-dev libmicrohttpd-dev libsqlite3-dev sqlite3
libpq-dev postgresql libcmocka-dev libargon2-dev libcurl4-gnutls-dev libssl-dev tzdata ca-certificates
libhpdf-dev libqrencode-dev poppler-utils openssl jq zbar-tools libxml2-utils"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# node and npm run the tests' contract tooling (tests/package.json); any node >= 18 will do
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
