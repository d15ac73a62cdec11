#!/usr/bin/env bash
# Installs what building and testing peerdesk needs on Debian/Ubuntu:
# cgo + X11/GL headers for the Fyne GUI, Xvfb for GUI screenshots,
# iproute2/nftables/iptables/ping for the network-namespace test bed, and
# CUPS with the cups-pdf printer for the printing tests.
#
# Idempotent: apt-get runs only when a package is missing. Go itself is not
# installed here; it is expected on PATH or in /usr/local/go.
set -euo pipefail

packages=(
	# build (cgo, Fyne/GLFW)
	gcc pkg-config
	libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev
	libxi-dev libxxf86vm-dev libxkbcommon-dev
	# GUI under a virtual display, screenshots, clicks (xdotool)
	xvfb xauth imagemagick xdotool
	# network-namespace test bed
	iproute2 nftables iptables iputils-ping
	# printing
	cups cups-client printer-driver-cups-pdf
)

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

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root, no sudo: install them as root"
	sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
	cat "$log" >&2
	die "apt-get update failed"
fi
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
echo "deps.sh: done"
