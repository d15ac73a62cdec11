#!/usr/bin/env bash
# Starts a CUPS scheduler with a cups-pdf print queue, for peerdesk's printing
# tests and for trying printer sharing by hand. Idempotent: a scheduler that
# already answers is reused, an existing queue is kept (and re-enabled).
#
#   scripts/cups.sh start [NETNS]   start cupsd (inside network namespace NETNS),
#                                   create queue $CUPS_QUEUE (default PDF), print
#                                   where cups-pdf writes its PDFs
#   scripts/cups.sh stop [NETNS]    stop that cupsd
#   scripts/cups.sh status [NETNS]  say whether it runs (exit 0) or not (exit 1)
#
# Without NETNS the system scheduler is used (config in /etc/cups, listening on
# localhost:631 and /run/cups/cups.sock). With NETNS, cupsd runs inside that
# namespace with a private config under /run/peerdesk-cups/NETNS, because every
# namespace has its own localhost:631 but they all share /etc/cups,
# /var/spool/cups and /run/cups: two schedulers on the same files would
# corrupt each other's queues and jobs. A peer in NETNS reaches it at
# localhost:631, which is what the printing backend uses by default.
#
# Administration (lpadmin, cupsenable, lpstat for readiness) always goes over
# the scheduler's domain socket: CUPS 2.4.2-3+deb12u10 refuses root's lpadmin
# over localhost:631. "start" prints the CUPS version it runs.
#
# Needs root (cupsd runs as root, and cups-pdf's backend is root-only) and the
# packages cups, cups-client and printer-driver-cups-pdf (scripts/deps.sh).
# No systemd needed: cupsd is started directly.
set -euo pipefail

queue=${CUPS_QUEUE:-PDF}
netns=""
statedir=""  # private config/state dir in NETNS mode
timeout=20   # seconds to wait for the scheduler to come up or go down

die() {
	echo "cups.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 start|stop|status [NETNS]" >&2
	exit 2
}

# in_ctx runs a command where the scheduler lives (inside NETNS if given),
# always against that scheduler's domain socket (CUPS_SERVER). Over the
# socket cupsd knows the caller by its peer credentials and admits root to
# every admin operation; over localhost:631 root's lpadmin has to prove
# itself with the scheduler's local certificate, which CUPS
# 2.4.2-3+deb12u10 (Debian security update, 2026-11-20) no longer accepts
# ("lpadmin: Unauthorized"). The socket works on the old CUPS and the new.
# The socket must be named explicitly: libcups' default, /run/cups/cups.sock,
# belongs to the system scheduler even when seen from inside a namespace.
in_ctx() {
	if [ -n "$netns" ]; then
		ip netns exec "$netns" env LANG=C CUPS_SERVER="$statedir/cups.sock" "$@"
	else
		env LANG=C CUPS_SERVER="$(system_socket)" "$@"
	fi
}

# system_socket is the system scheduler's domain socket, as its cupsd.conf
# names it (Debian and Ubuntu: /run/cups/cups.sock).
system_socket() {
	local s
	s=$(awk '$1 == "Listen" && $2 ~ /^\// {print $2}' /etc/cups/cupsd.conf 2>/dev/null | head -n1)
	echo "${s:-/run/cups/cups.sock}"
}

# running: lpstat's exit status is 0 even when the scheduler is down, so
# readiness is read from its text.
running() {
	in_ctx lpstat -r 2>/dev/null | grep -q "scheduler is running"
}

wait_for() { # wait_for up|down
	local deadline=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ "$1" = up ] && running; then return 0; fi
		if [ "$1" = down ] && ! running; then return 0; fi
		sleep 0.1
	done
	return 1
}

need_tools() {
	local missing=()
	for t in cupsd lpadmin lpstat lpinfo cupsenable cupsaccept; do
		command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: install cups cups-client printer-driver-cups-pdf (scripts/deps.sh)"
	[ -x /usr/lib/cups/backend/cups-pdf ] || die "missing the cups-pdf backend: install printer-driver-cups-pdf"
	[ "$(id -u)" -eq 0 ] || die "must run as root (cupsd and the cups-pdf backend run as root)"
	if [ -n "$netns" ]; then
		command -v ip >/dev/null 2>&1 || die "missing ip (iproute2)"
		ip netns list | awk '{print $1}' | grep -qx "$netns" || die "no network namespace $netns"
	fi
}

# fix_accounts repairs what minimal containers lack: cupsd runs filters as
# user lp and refuses to start if lp or group lp is missing; cups-pdf's
# config and the default cupsd SystemGroup name group lpadmin; cups-pdf puts
# jobs of users without a local account (all peerdesk users, "alice@desk-2")
# in AnonDirName, which must exist and be world-writable with the sticky bit,
# since it writes there as user nobody.
fix_accounts() {
	getent group lp >/dev/null || groupadd -r lp
	getent passwd lp >/dev/null || useradd -r -g lp -d /var/spool/lpd -s /usr/sbin/nologin lp
	getent group lpadmin >/dev/null || groupadd -r lpadmin
	local anon
	anon=$(anon_dir)
	if [ ! -d "$anon" ]; then
		mkdir -p "$anon"
		chmod 1777 "$anon"
	fi
}

# anon_dir is where cups-pdf writes jobs of users with no local account.
anon_dir() {
	local d
	d=$(awk '$1 == "AnonDirName" {print $2}' /etc/cups/cups-pdf.conf 2>/dev/null | tail -n1)
	echo "${d:-/var/spool/cups-pdf/ANONYMOUS}"
}

# private_config writes the NETNS scheduler's config: the system's cupsd.conf
# (same access policies) with its own listeners and no printer browsing (no
# avahi in a namespace), and a cups-files.conf that moves every file cupsd
# writes into $statedir.
private_config() {
	mkdir -p "$statedir"/{ppd,spool/tmp,state,cache,log}
	chmod 755 "$statedir"
	{
		grep -vE '^[[:space:]]*(Listen|Port|Browsing|BrowseLocalProtocols|WebInterface)\b' /etc/cups/cupsd.conf
		echo "Listen localhost:631"
		echo "Listen $statedir/cups.sock"
		echo "Browsing No"
		echo "WebInterface No"
	} >"$statedir/cupsd.conf"
	cat >"$statedir/cups-files.conf" <<-EOF
		SystemGroup root lpadmin
		ServerRoot $statedir
		RequestRoot $statedir/spool
		TempDir $statedir/spool/tmp
		StateDir $statedir/state
		CacheDir $statedir/cache
		AccessLog $statedir/log/access_log
		ErrorLog $statedir/log/error_log
		PageLog $statedir/log/page_log
	EOF
	chmod 644 "$statedir/cupsd.conf" "$statedir/cups-files.conf"
}

start_cupsd() {
	if [ -n "$netns" ]; then
		# A fresh namespace has its loopback down; localhost:631 needs it.
		ip netns exec "$netns" ip link set lo up
		private_config
		# cupsd daemonizes itself (no -f) and stays in the namespace.
		ip netns exec "$netns" cupsd -c "$statedir/cupsd.conf" -s "$statedir/cups-files.conf" ||
			die "cupsd did not start: $(cupsd -t -c "$statedir/cupsd.conf" -s "$statedir/cups-files.conf" 2>&1)"
	else
		mkdir -p /run/cups
		cupsd || die "cupsd did not start: $(cupsd -t 2>&1)"
	fi
}

# ppd finds the cups-pdf driver as lpinfo names it (the path differs between
# distributions and releases), preferring the one with options.
ppd() {
	local models p
	models=$(in_ctx lpinfo -m 2>/dev/null | awk '{print $1}' | grep -i 'cups-pdf' || true)
	p=$(echo "$models" | grep -i '_opt\.ppd' | head -n1)
	[ -n "$p" ] || p=$(echo "$models" | head -n1)
	[ -n "$p" ] || die "no cups-pdf driver in 'lpinfo -m' (is printer-driver-cups-pdf installed?)"
	echo "$p"
}

ensure_queue() {
	if ! in_ctx lpstat -v "$queue" >/dev/null 2>&1; then
		# lpadmin warns that printer drivers are deprecated; that warning is
		# not a failure.
		in_ctx lpadmin -p "$queue" -E -v cups-pdf:/ -m "$(ppd)" 2> >(grep -v 'deprecated' >&2)
	fi
	# Repair a queue a crashed test left disabled or rejecting.
	in_ctx cupsenable "$queue"
	in_ctx cupsaccept "$queue"
	in_ctx lpstat -p "$queue" | grep -q "enabled" || die "queue $queue did not come up: $(in_ctx lpstat -p "$queue" 2>&1)"
}

# prune_stale removes the private state of schedulers whose namespace is
# gone (a test binary killed before its cleanup): their cupsd died with the
# namespace's processes, only the files under /run/peerdesk-cups stay.
prune_stale() {
	local d ns live
	[ -d /run/peerdesk-cups ] || return 0
	live=$(ip netns list 2>/dev/null | awk '{print $1}')
	for d in /run/peerdesk-cups/*/; do
		[ -d "$d" ] || continue
		ns=$(basename "$d")
		if ! grep -qx -- "$ns" <<<"$live"; then
			rm -rf -- "$d"
		fi
	done
}

cmd_start() {
	need_tools
	fix_accounts
	[ -n "$netns" ] && prune_stale
	if ! running; then
		start_cupsd
		wait_for up || die "cupsd did not answer on its socket within ${timeout}s$( [ -n "$netns" ] && echo " (log: $statedir/log/error_log)")"
	fi
	ensure_queue
	local where="localhost:631 (socket $(system_socket))"
	[ -n "$netns" ] && where="localhost:631 in netns $netns (socket $statedir/cups.sock)"
	echo "cupsd: running on $where"
	echo "version: CUPS $(dpkg-query -W -f='${Version}' cups-daemon 2>/dev/null || echo unknown) (cups-daemon)"
	echo "queue: $queue (cups-pdf)"
	echo "cups-pdf output: $(anon_dir) for users without a local account (peerdesk's account@peer);"
	echo "                 local users get \$HOME/PDF (Out in /etc/cups/cups-pdf.conf)"
}

cmd_stop() {
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	# cupsd writes its pid into its StateDir.
	local pidfile=/run/cups/cupsd.pid
	[ -n "$netns" ] && pidfile="$statedir/state/cupsd.pid"
	if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		kill "$(cat "$pidfile")"
	elif running; then
		die "a scheduler answers but $pidfile names no live process; stop it by hand"
	fi
	wait_for down || die "cupsd did not stop within ${timeout}s"
	echo "cupsd: stopped"
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
if [ $# -eq 2 ]; then
	netns=$2
	case "$netns" in */* | .* | "") die "bad namespace name: $netns" ;; esac
	statedir=/run/peerdesk-cups/$netns
fi
# One start or stop at a time per scheduler: test binaries running in
# parallel would otherwise both see no scheduler and both start one, and the
# second cupsd dies on the taken port.
mkdir -p /run/lock
exec 9>"/run/lock/peerdesk-cups-${netns:-host}.lock"
flock -w 60 9 || die "another scripts/cups.sh still holds /run/lock/peerdesk-cups-${netns:-host}.lock"

case "$1" in
start) cmd_start ;;
stop) cmd_stop ;;
status)
	if running; then
		echo "cupsd: running"
	else
		echo "cupsd: not running"
		exit 1
	fi
	;;
*) usage ;;
esac
