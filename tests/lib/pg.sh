#!/bin/sh
# pg.sh - a throwaway PostgreSQL server for the test suite.
#
#   sh tests/lib/pg.sh start DIR   initdb into DIR/data, start a server listening
#                                  only on a unix socket in DIR, print
#                                  export CLINICLEDGER_TEST_PG="postgresql://..."
#   sh tests/lib/pg.sh stop DIR    stop that server and remove DIR
#   sh tests/lib/pg.sh createdb NAME
#                                  create database NAME on the server named by
#                                  $CLINICLEDGER_TEST_PG and print its URL
#
# Only the export line goes to stdout; progress and errors go to stderr.
# initdb refuses to run as root, so as root the server runs as the
# "postgres" system user (from the Debian postgresql package).
set -eu

PORT=${CLINICLEDGER_TEST_PG_PORT:-54329}
RUN_USER=postgres

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

pg_bindir() {
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
	done
	if [ -z "${best:-}" ]; then
		p=$(command -v pg_ctl 2>/dev/null || true)
		[ -n "$p" ] && best=$(dirname "$p")
	fi
	[ -n "${best:-}" ] || die "no PostgreSQL server binaries (initdb, pg_ctl) found"
	echo "$best"
}

# as_pg CMD...: run CMD as the server's user (ourselves unless we are root).
as_pg() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$RUN_USER" -- "$@"
	else
		# su needs one command string; our arguments carry no quotes.
		su "$RUN_USER" -s /bin/sh -c "$*"
	fi
}

abs_dir() {
	mkdir -p "$1"
	(cd "$1" && pwd -P)
}

cmd_start() {
	[ $# -eq 1 ] || die "usage: pg.sh start DIR"
	dir=$(abs_dir "$1")
	bin=$(pg_bindir)
	[ -e "$dir/data/PG_VERSION" ] && die "$dir/data already holds a cluster"
	if [ "$(id -u)" -eq 0 ]; then
		getent passwd "$RUN_USER" >/dev/null || die "running as root needs a '$RUN_USER' user"
		chown "$RUN_USER" "$dir"
		as_pg test -w "$dir" || die "$RUN_USER cannot write $dir (check the parent directories)"
	fi
	as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
		--no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	}
	cat >>"$dir/data/postgresql.conf" <<EOF
# pg.sh: test server, unix socket only, durability off
listen_addresses = ''
unix_socket_directories = '$dir'
port = $PORT
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
EOF
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1 || {
		cat "$dir/server.log" >&2 2>/dev/null || true
		die "pg_ctl start failed"
	}
	echo "export CLINICLEDGER_TEST_PG=\"postgresql://postgres@/postgres?host=$dir&port=$PORT\""
}

cmd_stop() {
	[ $# -eq 1 ] || die "usage: pg.sh stop DIR"
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd -P)
	if [ -e "$dir/data/postmaster.pid" ]; then
		bin=$(pg_bindir)
		as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
			echo "pg.sh: pg_ctl stop failed" >&2
	fi
	rm -rf "$dir"
}

cmd_createdb() {
	[ $# -eq 1 ] || die "usage: pg.sh createdb NAME"
	name=$1
	url=${CLINICLEDGER_TEST_PG:-}
	[ -n "$url" ] || die "CLINICLEDGER_TEST_PG is not set"
	case $name in
	*[!a-z0-9_]* | "") die "database name must match [a-z0-9_]+" ;;
	esac
	psql=$(command -v psql 2>/dev/null || echo "$(pg_bindir)/psql")
	"$psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -c "CREATE DATABASE $name" >&2 ||
		die "CREATE DATABASE $name failed"
	# Replace the database in the URL path: scheme://auth/DB?query.
	echo "$url" | sed -E "s#^([a-z]+://[^/]*)/[^?]*#\\1/$name#"
}

[ $# -ge 1 ] || die "usage: pg.sh start DIR | stop DIR | createdb NAME"
cmd=$1
shift
case $cmd in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
createdb) cmd_createdb "$@" ;;
*) die "unknown command: $cmd" ;;
esac
