#!/usr/bin/env bash
# Installs what building and testing peerdesk needs on Debian/Ubuntu:
# cgo + X11/GL headers for the Fyne GUI, Xvfb for GUI screenshots,
# iproute2/nftables/iptables/ping for the network-namespace test bed, and
# CUPS with the cups-pdf printer for the printing tests.
#
# Idempotent: apt-get runs only when a package is missing. Go itself is not
# installed here; it is expected on PATH or in /usr/local/go.
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --fresh   also upgrade the printing packages the tests
#                             talk to when apt has a newer version (make test
#                             and CI), then print the versions tested against
#
# Why --fresh: a CUPS security update (2.4.2-3+deb12u10, 2026-11-20)
# changed what cupsd accepts; a machine that installed CUPS weeks earlier
# passed the tests where a fresh one failed. Tests must meet the packages a
# fresh machine gets today. Under CI=true a failed check or upgrade fails
# with the installed and candidate versions; elsewhere it warns.
set -euo pipefail

fresh=false
case "${1:-}" in
--fresh) fresh=true ;;
"") ;;
*)
	echo "usage: $0 [--fresh]" >&2
	exit 2
	;;
esac

packages=(
	# build (cgo, Fyne/GLFW)
	gcc pkg-config
	libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev
	libxi-dev libxxf86vm-dev libxkbcommon-dev
	# GUI under a virtual display, screenshots, clicks (xdotool); a private
	# D-Bus session bus for the file chooser's portal test
	xvfb xauth imagemagick xdotool dbus-daemon
	# network-namespace test bed
	iproute2 nftables iptables iputils-ping
	# printing (ipptool from cups-ipp-utils)
	cups cups-client cups-ipp-utils printer-driver-cups-pdf
	# sample documents for the IPP Everywhere conformance suite
	ghostscript
)

# The printing packages whose behaviour the tests depend on: kept at apt's
# candidate version by --fresh.
printing_packages=(cups cups-daemon cups-client cups-ipp-utils libcups2 cups-filters printer-driver-cups-pdf)

die() {
	echo "deps.sh: $*" >&2
	exit 1
}

if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
	die "Go is not installed: put it in /usr/local/go or on PATH (https://go.dev/doc/install)"
fi

command -v dpkg-query >/dev/null 2>&1 || die "not a Debian/Ubuntu system (no dpkg-query); install by hand: ${packages[*]}"

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
need_root() {
	[ ${#sudo[@]} -eq 0 ] || command -v sudo >/dev/null 2>&1 ||
		die "$1 and not root, no sudo: run scripts/deps.sh as root"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive

apt_update() {
	if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
		cat "$log" >&2
		return 1
	fi
}

if [ ${#missing[@]} -gt 0 ]; then
	need_root "missing packages (${missing[*]})"
	echo "deps.sh: installing ${missing[*]}"
	apt_update || die "apt-get update failed"
	# policy-rc.d-less containers may fail to start cupsd from the package
	# scripts; that is fine, the tests start their own cupsd.
	if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "apt-get install failed for: ${missing[*]}"
	fi
	still=()
	for p in "${missing[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || still+=("$p")
	done
	[ ${#still[@]} -eq 0 ] || die "still missing after install: ${still[*]}"
	echo "deps.sh: installed"
	updated=true
fi

[ "$fresh" = true ] || exit 0

# stale_or_fail reports a problem with freshness: fatal under CI, a warning
# elsewhere (a developer offline can still run the tests).
stale_or_fail() {
	if [ "${CI:-}" = true ]; then
		die "$*"
	fi
	echo "deps.sh: warning: $*" >&2
}

installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
candidate_version() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'; }

# behind lists "pkg installed candidate" for each printing package apt has
# a newer version of.
behind() {
	local p have want
	for p in "${printing_packages[@]}"; do
		have=$(installed_version "$p")
		[ -n "$have" ] || continue
		want=$(candidate_version "$p")
		[ -n "$want" ] && [ "$want" != "(none)" ] || continue
		if dpkg --compare-versions "$want" gt "$have"; then
			echo "$p $have $want"
		fi
	done
}

if [ "${updated:-false}" != true ]; then
	need_root "checking for printing package updates"
	apt_update || stale_or_fail "apt-get update failed: cannot tell whether the printing packages are the ones a fresh machine gets"
fi
old=$(behind)
if [ -n "$old" ]; then
	echo "deps.sh: upgrading printing packages (package installed candidate):"
	sed 's/^/  /' <<<"$old"
	# shellcheck disable=SC2046
	if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends --only-upgrade $(awk '{print $1}' <<<"$old") >"$log" 2>&1; then
		tail -n 40 "$log" >&2
	fi
	still=$(behind)
	[ -z "$still" ] || stale_or_fail "printing packages older than apt's candidate (package installed candidate):
$still"
fi

echo "deps.sh: testing against $(for p in "${printing_packages[@]}"; do
	v=$(installed_version "$p")
	[ -n "$v" ] && printf '%s %s, ' "$p" "$v"
done | sed 's/, $//')"
