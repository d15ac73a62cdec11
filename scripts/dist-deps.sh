#!/usr/bin/env bash
# Installs what scripts/dist.sh (make dist) and the artifact tests in
# test/dist need on Debian/Ubuntu, on top of scripts/deps.sh (cgo and the
# X11/GL headers for the Linux desktop build):
#   .deb      dpkg-dev (dpkg-shlibdeps), lintian, desktop-file-utils, xz-utils
#   icons     imagemagick (hicolor PNGs, the installer's .ico)
#   Windows   gcc-mingw-w64-x86-64 (cgo cross build), nsis (makensis)
#   signing   osslsigncode, only where the release has it
# The fyne and go-winres tools come from the Go module proxy; dist.sh
# installs them into .cache/dist-tools on first use.
#
# Idempotent: apt-get runs only for what is missing. A package the
# configured apt sources do not offer is reported by name before anything is
# installed (osslsigncode is optional and only warned about).
set -euo pipefail
cd "$(dirname "$0")/.."

required=(dpkg-dev lintian desktop-file-utils xz-utils imagemagick gcc-mingw-w64-x86-64 nsis)
optional=(osslsigncode)

die() {
	echo "dist-deps.sh: $*" >&2
	exit 1
}

command -v dpkg-query >/dev/null 2>&1 || die "not a Debian/Ubuntu system (no dpkg-query); install by hand: ${required[*]} ${optional[*]}"

# The Linux desktop build itself needs the packages of scripts/deps.sh.
bash scripts/deps.sh

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# available PKG: apt knows a candidate version for PKG.
available() {
	local candidate
	candidate=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

missing=()
for p in "${required[@]}" "${optional[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root, no sudo: install them as root"
	sudo=(sudo)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent (fresh containers ship none).
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
	cat "$log" >&2
	die "apt-get update failed"
fi

install=()
unavailable=()
for p in "${missing[@]}"; do
	if available "$p"; then
		install+=("$p")
	elif [[ " ${optional[*]} " == *" $p "* ]]; then
		echo "dist-deps.sh: warning: $p is not in the apt sources; Windows artifacts cannot be signed here" >&2
	else
		unavailable+=("$p")
	fi
done
[ ${#unavailable[@]} -eq 0 ] || die "not available from the apt sources: ${unavailable[*]}"
[ ${#install[@]} -gt 0 ] || exit 0

echo "dist-deps.sh: installing ${install[*]}"
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${install[@]}" >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "apt-get install failed for: ${install[*]}"
fi

still=()
for p in "${install[@]}"; do
	installed "$p" || still+=("$p")
done
[ ${#still[@]} -eq 0 ] || die "still missing after install: ${still[*]}"
echo "dist-deps.sh: done"
