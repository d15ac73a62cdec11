#!/usr/bin/env bash
# Builds every Peerdesk release artifact into dist/ (what `make dist` runs):
#
#   Linux    peerdesk-VERSION-linux-ARCH.tar.xz    `fyne package` layout + Makefile
#            peerdesk_VERSION_ARCH.deb             desktop integration, lintian-checked
#   Windows  peerdesk-VERSION-windows-amd64.exe    desktop app (cgo, mingw-w64)
#            peerdesk-cli-VERSION-windows-amd64.exe  daemon + CLI (no cgo, console)
#            peerdesk-VERSION-windows-amd64-setup.exe  NSIS installer of both
#   SHA256SUMS
#
# The one version is FyneApp.toml's [Details] Version; every binary is stamped
# with it (-X main.version) and reports it with `peerdesk --version`.
# macOS cannot be built here: packaging/macos/README.md.
#
# Usage: scripts/dist.sh [--out DIR] [--src DIR] [--targets linux,windows] [--no-lint] [--no-harden]
#   --out DIR      where the artifacts go (default: dist/ of this checkout)
#   --src DIR      the source tree to package (default: this checkout)
#   --targets T    comma-separated subset of linux,windows (default: both)
#   --no-lint      skip lintian (the dist tests run it themselves)
#   --no-harden    build the Linux binary with plain `go build` flags instead of
#                  -trimpath, PIE and full RELRO: it then reuses the Go build
#                  cache of `make build` (CI: minutes less of cgo compiling),
#                  and lintian warns hardening-no-pie. Releases leave it off.
# Environment: PEERDESK_MAINTAINER (the .deb Maintainer), PEERDESK_SIGN_*
# (Windows code signing, see packaging/windows/sign.sh), SOURCE_DATE_EPOCH.
# Tools: scripts/dist-deps.sh installs them.
set -euo pipefail

# Pinned helper tools from the Go module proxy. fyne.io/tools v1.7.2 is the
# release built against fyne v2.7.0, the library version go.mod uses.
FYNE_TOOLS_VERSION=${FYNE_TOOLS_VERSION:-v1.7.2}
GO_WINRES_VERSION=${GO_WINRES_VERSION:-v0.3.3}
MAINTAINER=${PEERDESK_MAINTAINER:-Peerdesk maintainers <maintainers@peerdesk.org>}
# Build tags of the desktop app, as `make build` uses them (so --no-harden
# reuses its cache): no_emoji drops Fyne's bundled emoji font, ~15 MB of
# memory at start; emoji in file names show as boxes.
GUI_TAGS=${PEERDESK_GUI_TAGS:-no_emoji}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pkgdir=$root/packaging
out=$root/dist
src=$root
targets=linux,windows
lint=1
harden=1

die() {
	echo "dist.sh: $*" >&2
	exit 1
}

while [ "$#" -gt 0 ]; do
	case $1 in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--src) src=${2:?--src needs a directory}; shift 2 ;;
	--targets) targets=${2:?--targets needs linux,windows}; shift 2 ;;
	--no-lint) lint=0; shift ;;
	--no-harden) harden=0; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

want_linux=0
want_windows=0
IFS=, read -ra list <<<"$targets"
for t in "${list[@]}"; do
	case $t in
	linux) want_linux=1 ;;
	windows) want_windows=1 ;;
	*) die "unknown target $t (want linux, windows)" ;;
	esac
done

# --- tools -----------------------------------------------------------------

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	PATH=$PATH:/usr/local/go/bin
fi

# need TOOL PACKAGE: collect every missing tool before failing, so one run
# says everything that has to be installed.
missing=()
need() {
	command -v "$1" >/dev/null 2>&1 || missing+=("$1 (apt: $2)")
}
need go "Go >= 1.24 in /usr/local/go or on PATH"
need convert imagemagick
need tar tar
if [ "$want_linux" = 1 ]; then
	need gcc gcc
	need pkg-config pkg-config
	need xz xz-utils
	need dpkg-deb dpkg
	need dpkg-shlibdeps dpkg-dev
	need desktop-file-validate desktop-file-utils
	[ "$lint" = 0 ] || need lintian lintian
fi
if [ "$want_windows" = 1 ]; then
	need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
	need makensis nsis
	if "$pkgdir/windows/sign.sh" --check; then
		need osslsigncode osslsigncode
	fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
	printf 'dist.sh: missing tool: %s\n' "${missing[@]}" >&2
	die "install them with scripts/dist-deps.sh"
fi

# --- version -----------------------------------------------------------------

# toml_details KEY: a value of FyneApp.toml's [Details] table. Only the flat
# `Key = "value"` / `Key = 1` lines fyne writes are understood.
toml_details() {
	awk -v key="$1" '
		/^[[:space:]]*\[/ { details = ($0 ~ /^[[:space:]]*\[Details\][[:space:]]*$/) ; next }
		details {
			line = $0
			sub(/[[:space:]]*#.*$/, "", line)
			if (match(line, "^[[:space:]]*" key "[[:space:]]*=[[:space:]]*")) {
				v = substr(line, RLENGTH + 1)
				gsub(/^"|"[[:space:]]*$|[[:space:]]+$/, "", v)
				print v
				exit
			}
		}' "$src/FyneApp.toml"
}

[ -f "$src/FyneApp.toml" ] || die "no FyneApp.toml in $src"
VERSION=$(toml_details Version)
BUILD=$(toml_details Build)
APP_ID=$(toml_details ID)
ICON_REL=$(toml_details Icon)
BUILD=${BUILD:-1}
# Windows version resources and Debian native versions both need plain
# numbers; fyne itself wants x.y.z.
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "FyneApp.toml Version \"$VERSION\" is not x.y.z"
[[ $BUILD =~ ^[0-9]+$ ]] || die "FyneApp.toml Build \"$BUILD\" is not a number"
[ "$APP_ID" = org.peerdesk.Peerdesk ] || die "FyneApp.toml ID is \"$APP_ID\"; packaging/ is written for org.peerdesk.Peerdesk"
VERSION4=$VERSION.$BUILD
DEFAULT_PORT=$(sed -n 's/^const DefaultPort = \([0-9][0-9]*\)$/\1/p' "$src/node/state.go" 2>/dev/null || true)
DEFAULT_PORT=${DEFAULT_PORT:-47220}

echo "dist.sh: Peerdesk $VERSION (build $BUILD) from $src"

GOARCH_HOST=$(go env GOARCH)
LDFLAGS="-s -w -X main.version=$VERSION"

# Reproducible timestamps (changelog, archive members): the last commit,
# else now.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# --- work area ---------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/peerdesk-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/artifacts"

declare -a timings=()
step_start=0
step_name=""
step() {
	step_end
	step_name=$1
	step_start=$(date +%s%N)
	echo "==> $step_name"
}
step_end() {
	if [ -n "$step_name" ]; then
		local ms=$((($(date +%s%N) - step_start) / 1000000))
		timings+=("$(printf '%-44s %6d.%01ds' "$step_name" $((ms / 1000)) $((ms % 1000 / 100)))")
		step_name=""
	fi
}
total_start=$(date +%s%N)

# quiet CMD...: run CMD, show its output only if it fails.
quiet() {
	local log
	log=$(mktemp "$work/log.XXXXXX")
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "failed: $*"
	fi
}

# The build works on a snapshot of the sources: the tree may change while
# the (minutes long) build runs, and the Windows resource .syso must sit in
# the main package directory without ever appearing in the checkout.
step "snapshot sources"
snap=$work/src
mkdir -p "$snap"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and untracked-but-not-ignored files: exactly the source, without
	# bin/, dist/, .cache/ or stray binaries. Deleted tracked files are skipped.
	(cd "$src" && git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$snap" -xf -
else
	tar -C "$src" --exclude=./.git --exclude=./.cache --exclude=./dist --exclude=./bin \
		--exclude=./peerdesk --exclude=./peerdesk-nogui -cf - . | tar -C "$snap" -xf -
fi
[ -f "$snap/go.mod" ] || die "snapshot of $src has no go.mod"

# Helper tools are cached per version in the checkout's .cache (gitignored);
# `go install mod@version` ignores go.mod, so nothing is added to it.
toolbin=$root/.cache/dist-tools
tool=""
install_tool() { # NAME MODULE/PATH VERSION; sets tool to the binary's path
	local dir=$toolbin/$1-$3
	tool=$dir/$1
	if [ ! -x "$tool" ]; then
		step "install $1 $3 (cached in .cache/dist-tools)"
		mkdir -p "$dir"
		(cd "$work" && GOFLAGS='' GOBIN=$dir quiet go install "$2@$3")
	fi
}

# fill TEMPLATE KEY=VALUE...: TEMPLATE with every @KEY@ replaced. Plain bash
# replacement, so values may hold any character (sed would trip on / and &).
fill() {
	local text kv
	text=$(<"$1")
	shift
	for kv in "$@"; do
		text=${text//"@${kv%%=*}@"/"${kv#*=}"}
	done
	printf '%s\n' "$text"
}

icon=$snap/$ICON_REL
[ -f "$icon" ] || die "icon $ICON_REL (FyneApp.toml) not found"

step "icons (hicolor PNGs, .ico)"
mkdir -p "$work/icons"
# One PNG per size the icon themes look up; 256 is the source's size, larger
# would only be blurred.
ICON_SIZES=(16 22 24 32 48 64 128 256)
for s in "${ICON_SIZES[@]}"; do
	convert "$icon" -resize "${s}x${s}" -strip -define png:exclude-chunks=date,time "PNG32:$work/icons/$s.png"
done
convert "$icon" -define icon:auto-resize=256,64,48,32,16 "$work/icons/peerdesk.ico"

# module_notices BINARY: a DEP-5 "Files:" paragraph per Go module linked into
# BINARY, with the module's licence from the module cache. The .deb's
# copyright file and the Windows THIRD-PARTY-NOTICES.txt are made from it, so
# what we ship and what we credit come from the same list.
module_notices() {
	local bin=$1 modcache path version dir lic short holders goversion
	modcache=$(go env GOMODCACHE)
	# The Go runtime and standard library are linked in too.
	goversion=$(go version -m "$bin" | sed -n '1s/^.*: //p')
	printf '\nFiles: go-modules/std\nComment: The Go runtime and standard library, %s.\n' "$goversion"
	printf 'Copyright: Copyright 2009 The Go Authors\nLicense: BSD-3-Clause\n'
	sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /' "$(go env GOROOT)/LICENSE"
	go version -m "$bin" |
		awk '$1 == "dep" { if (p != "") print p, v; p = $2; v = $3 }
		     $1 == "=>"  { p = $2; v = $3 }
		     END { if (p != "") print p, v }' |
		while read -r path version; do
			# Module cache paths escape capitals as !lower.
			dir=$modcache/$(printf '%s@%s' "$path" "$version" | sed 's/[A-Z]/!\L&/g')
			lic=$(find "$dir" -maxdepth 1 -type f \( -iname 'licen[cs]e*' -o -iname 'copying*' \) 2>/dev/null | sort | head -n 1)
			printf '\nFiles: go-modules/%s\n' "$path"
			printf 'Comment: Go module %s %s, linked into the binary.\n' "$path" "$version"
			if [ -z "$lic" ]; then
				printf 'Copyright: the %s authors\nLicense: unknown\n See https://pkg.go.dev/%s@%s?tab=licenses\n' "$path" "$path" "$version"
				continue
			fi
			holders=$(grep -m 3 -iE '^[[:space:]]*copyright[[:space:]]*(\(c\)|©|[0-9])' "$lic" | sed 's/^[[:space:]]*//' || true)
			[ -n "$holders" ] || holders="the $path authors"
			printf 'Copyright: %s\n' "$(printf '%s\n' "$holders" | sed '2,$s/^/ /')"
			short=$(license_short_name "$lic")
			case $short in
			Apache-2.0 | MPL-2.0)
				# Debian ships these texts; lintian prefers a pointer.
				printf 'License: %s\n On Debian systems the full text is in /usr/share/common-licenses/%s;\n it is also at https://spdx.org/licenses/%s.html\n' "$short" "$short" "$short"
				;;
			*)
				printf 'License: %s\n' "$short"
				sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /' "$lic"
				;;
			esac
		done
}

# license_short_name FILE: the DEP-5 short name for the licence text in FILE.
license_short_name() {
	local f=$1
	if grep -q 'Apache License' "$f" && grep -q 'Version 2.0' "$f"; then
		echo Apache-2.0
	elif grep -q 'Mozilla Public License' "$f" && grep -q '2\.0' "$f"; then
		echo MPL-2.0
	elif grep -q 'Permission is hereby granted, free of charge' "$f"; then
		echo Expat
	elif grep -q 'Redistribution and use in source and binary forms' "$f"; then
		if grep -qiE 'neither the name|names of (its|the) contributors|name of the copyright holder' "$f"; then
			echo BSD-3-Clause
		else
			echo BSD-2-Clause
		fi
	elif grep -qE 'Permission to use, copy, modify, and(/or)? distribute' "$f"; then
		echo ISC
	elif grep -q 'This is free and unencumbered software' "$f"; then
		echo Unlicense
	else
		echo other
	fi
}

# copyright_file BINARY: the whole DEP-5 document for BINARY.
copyright_file() {
	local lic=""
	for f in LICENSE LICENSE.md LICENSE.txt COPYING; do
		[ -f "$snap/$f" ] && lic=$snap/$f && break
	done
	printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
	printf 'Upstream-Name: Peerdesk\nSource: https://github.com/peerdesk/peerdesk\n\n'
	printf 'Files: *\nCopyright: the Peerdesk authors\n'
	if [ -n "$lic" ]; then
		printf 'License: %s\n' "$(license_short_name "$lic")"
		sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /' "$lic"
	else
		printf 'License: other\n No licence has been published for Peerdesk yet; until one is, all\n rights are reserved by its authors.\n'
	fi
	module_notices "$1"
}

# --- Linux -------------------------------------------------------------------

linux_build() {
	local bin=$work/linux/peerdesk
	mkdir -p "$work/linux"

	if [ "$harden" = 1 ]; then
		step "linux: build desktop app (cgo, hardened)"
		# PIE and full RELRO: the hardening Debian expects of a network daemon.
		(cd "$snap" && CGO_ENABLED=1 GOOS=linux GOARCH=$GOARCH_HOST \
			CGO_LDFLAGS="${CGO_LDFLAGS:-} -Wl,-z,relro,-z,now" \
			quiet go build -trimpath -buildvcs=false -buildmode=pie -tags "$GUI_TAGS" -ldflags "$LDFLAGS" -o "$bin" .)
	else
		step "linux: build desktop app (cgo, --no-harden)"
		# Only -ldflags differs from `go build .`, and it changes the link, not
		# the compiled packages: the cgo dependencies come from the cache.
		(cd "$snap" && CGO_ENABLED=1 GOOS=linux GOARCH=$GOARCH_HOST \
			quiet go build -buildvcs=false -tags "$GUI_TAGS" -ldflags "$LDFLAGS" -o "$bin" .)
	fi
	local reported
	reported=$("$bin" --version)
	[ "$reported" = "peerdesk $VERSION" ] || die "the built binary reports \"$reported\", want \"peerdesk $VERSION\""

	local fyne
	install_tool fyne fyne.io/tools/cmd/fyne "$FYNE_TOOLS_VERSION"
	fyne=$tool
	step "linux: fyne package (tar.xz)"
	# fyne package writes the archive into, and bumps Build in, the folder it
	# runs in: give it a scratch folder with just the metadata, the icon and
	# a placeholder .go file (it refuses folders without Go code). --exe
	# makes it package our stamped binary instead of building its own.
	local fw=$work/fyne
	# fyne runs `tar -J`; fix_fyne_tarball unpacks and compresses its archive
	# again, so fyne's xz only needs to be fast.
	local xz_opt=${XZ_OPT-}
	export XZ_OPT="-0 -T0"
	mkdir -p "$fw/$(dirname "$ICON_REL")"
	cp "$snap/FyneApp.toml" "$fw/"
	cp "$icon" "$fw/$ICON_REL"
	printf 'package main\n' >"$fw/main.go"
	(cd "$fw" && quiet "$fyne" package --os linux --release --exe "$bin")
	if [ -n "$xz_opt" ]; then export XZ_OPT=$xz_opt; else unset XZ_OPT; fi
	local name
	name=$(toml_details Name)
	[ -f "$fw/$name.tar.xz" ] || die "fyne package made no $name.tar.xz"
	fix_fyne_tarball "$fw/$name.tar.xz" "$work/artifacts/peerdesk-$VERSION-linux-$GOARCH_HOST.tar.xz"

	deb_build "$bin"
}

# fix_fyne_tarball IN OUT: fyne's tarball with its Makefile repaired. The
# Makefile fyne tools v1.7.2 writes installs usr/local/share/pixmaps/ICON
# without the .png the file has, so `make install` and `make user-install`
# fail (fyne-io/tools#139); the Makefile is pointed at the real file.
fix_fyne_tarball() {
	local in=$1 out=$2 t=$work/fynetar top icon
	rm -rf "$t" && mkdir -p "$t"
	tar -C "$t" -xJf "$in"
	top=$(cd "$t" && ls)
	[ -f "$t/$top/Makefile" ] || die "fyne's tarball has no $top/Makefile"
	icon=$(sed -n 's/^Icon := "\(.*\)"$/\1/p' "$t/$top/Makefile")
	if [ -n "$icon" ] && [ ! -e "$t/$top/usr/local/share/pixmaps/$icon" ] &&
		[ -f "$t/$top/usr/local/share/pixmaps/$icon.png" ]; then
		sed -i "s/^Icon := \"$icon\"\$/Icon := \"$icon.png\"/" "$t/$top/Makefile"
	fi
	(cd "$t" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		-cf - "$top") | xz -T0 -6 >"$out"
}

deb_build() {
	local bin=$1 arch pkg root doc
	step "linux: .deb"
	arch=$(dpkg --print-architecture)
	# dpkg-shlibdeps wants the tree at debian/<package> below a folder with a
	# debian/control.
	pkg=$work/deb
	root=$pkg/debian/peerdesk
	doc=$root/usr/share/doc/peerdesk
	mkdir -p "$root/DEBIAN" "$doc"
	printf 'Source: peerdesk\n\nPackage: peerdesk\nArchitecture: any\n' >"$pkg/debian/control"

	install -D -m 0755 "$bin" "$root/usr/bin/peerdesk"
	local lin=$pkgdir/linux
	install -D -m 0644 "$lin/$APP_ID.desktop" "$root/usr/share/applications/$APP_ID.desktop"
	install -D -m 0644 "$lin/$APP_ID.Send.desktop" "$root/usr/share/applications/$APP_ID.Send.desktop"
	# /etc/xdg/autostart, a conffile: an admin who deletes it turns autostart
	# off for everyone and upgrades keep it deleted. Users switch it off with
	# a Hidden=true copy in ~/.config/autostart (packaging/README.md).
	install -D -m 0644 "$lin/autostart/$APP_ID.desktop" "$root/etc/xdg/autostart/$APP_ID.desktop"
	install -D -m 0644 "$lin/nemo/peerdesk-send.nemo_action" "$root/usr/share/nemo/actions/peerdesk-send.nemo_action"
	# KIO only runs service menus that are executable.
	install -D -m 0755 "$lin/dolphin/peerdesk-send.desktop" "$root/usr/share/kio/servicemenus/peerdesk-send.desktop"
	# Nautilus and Thunar read actions only from the user's home: ship them for
	# users (or the app) to link or paste.
	install -D -m 0755 "$lin/nautilus/Send to peer" "$root/usr/share/peerdesk/nautilus-scripts/Send to peer"
	install -D -m 0644 "$lin/thunar/peerdesk-send.uca.xml" "$root/usr/share/peerdesk/thunar/peerdesk-send.uca.xml"
	# The UDP buffer limits fast transfers need (stock: 208 KiB; the
	# postinst raises them at once, never lowering a higher one).
	install -D -m 0644 "$lin/sysctl/10-peerdesk.conf" "$root/usr/lib/sysctl.d/10-peerdesk.conf"
	local s
	for s in "${ICON_SIZES[@]}"; do
		install -D -m 0644 "$work/icons/$s.png" "$root/usr/share/icons/hicolor/${s}x$s/apps/$APP_ID.png"
	done

	# Man pages and the bash completion from the binary's own command tree,
	# so they cannot drift from the CLI.
	mkdir -p "$root/usr/share/man/man1" "$work/man"
	SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH "$bin" --home "$work/man-home" man "$work/man"
	local page
	for page in "$work/man"/*.1; do
		gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
	done
	install -d "$root/usr/share/bash-completion/completions"
	"$bin" --home "$work/man-home" completion bash >"$root/usr/share/bash-completion/completions/peerdesk"

	fill "$lin/deb/changelog.in" VERSION="$VERSION" BUILD="$BUILD" MAINTAINER="$MAINTAINER" \
		DATE="$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$doc/changelog.gz"
	copyright_file "$bin" >"$doc/copyright"
	chmod 0644 "$doc/copyright" "$doc/changelog.gz" "$root"/usr/share/man/man1/*.gz "$root/usr/share/bash-completion/completions/peerdesk"

	install -D -m 0644 "$lin/deb/lintian-overrides" "$root/usr/share/lintian/overrides/peerdesk"
	install -m 0755 "$lin/deb/postinst" "$lin/deb/postrm" "$root/DEBIAN/"
	# Everything under /etc is a conffile: dpkg keeps the admin's edits.
	(cd "$root" && find etc -type f -printf '/%p\n' | sort) >"$root/DEBIAN/conffiles"
	(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
		LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

	local depends size
	depends=$(cd "$pkg" && dpkg-shlibdeps -O -e"debian/peerdesk/usr/bin/peerdesk" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
	[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies for usr/bin/peerdesk"
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	fill "$lin/deb/control.in" VERSION="$VERSION" ARCH="$arch" MAINTAINER="$MAINTAINER" \
		INSTALLED_SIZE="$size" DEPENDS="$depends" >"$root/DEBIAN/control"

	# Directories 0755 and files without group/other write whatever the umask.
	find "$root" -type d -exec chmod 0755 {} +
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

	local f
	while IFS= read -r -d '' f; do
		quiet desktop-file-validate "$f"
	done < <(find "$root" -name '*.desktop' -print0)

	local deb=$work/artifacts/peerdesk_${VERSION}_$arch.deb
	quiet dpkg-deb --root-owner-group -Zxz --build "$root" "$deb"

	if [ "$lint" = 1 ]; then
		step "linux: lintian"
		local report=$work/lintian.txt
		# lintian exits non-zero on errors; judge by its E: lines instead so the
		# report is always shown.
		lintian --tag-display-limit 0 --display-info "$deb" >"$report" 2>&1 || true
		if [ -s "$report" ]; then
			sed 's/^/    /' "$report"
		fi
		if grep -q '^E: ' "$report"; then
			die "lintian reports errors for $(basename "$deb")"
		fi
	fi
}

# --- Windows -----------------------------------------------------------------

# winres NAME DESCRIPTION: write the Windows resources (icon, manifest,
# version) as rsrc_windows_amd64.syso into the snapshot's main package. The
# suffix makes `go build` link it into windows/amd64 builds only.
winres() {
	local goWinres=$1 name=$2 desc=$3 dir=$work/winres
	mkdir -p "$dir"
	cp "$icon" "$dir/icon.png"
	fill "$pkgdir/windows/winres.json.in" VERSION="$VERSION" VERSION4="$VERSION4" \
		DESCRIPTION="$desc" FILENAME="$name" >"$dir/winres.json"
	rm -f "$snap"/rsrc_windows_*.syso
	quiet "$goWinres" make --in "$dir/winres.json" --out "$snap/rsrc" --arch amd64
	[ -f "$snap/rsrc_windows_amd64.syso" ] || die "go-winres made no rsrc_windows_amd64.syso"
}

sign_windows() {
	if [ "$signing" = 1 ]; then
		quiet "$pkgdir/windows/sign.sh" "$@"
	fi
}

windows_build() {
	local w=$work/windows goWinres
	mkdir -p "$w"
	install_tool go-winres github.com/tc-hib/go-winres "$GO_WINRES_VERSION"
	goWinres=$tool

	step "windows: build desktop app (cgo, mingw-w64)"
	winres "$goWinres" peerdesk.exe "Peerdesk"
	(cd "$snap" && CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		quiet go build -trimpath -buildvcs=false -tags "$GUI_TAGS" -ldflags "$LDFLAGS -H windowsgui" -o "$w/peerdesk.exe" .)

	step "windows: build CLI (no cgo)"
	winres "$goWinres" peerdesk-cli.exe "Peerdesk command line and daemon"
	(cd "$snap" && CGO_ENABLED=0 GOOS=windows GOARCH=amd64 \
		quiet go build -trimpath -buildvcs=false -tags nogui -ldflags "$LDFLAGS" -o "$w/peerdesk-cli.exe" .)
	rm -f "$snap"/rsrc_windows_*.syso

	sign_windows "$w/peerdesk.exe" "$w/peerdesk-cli.exe"

	step "windows: NSIS installer"
	local stage=$w/stage
	mkdir -p "$stage"
	cp "$w/peerdesk.exe" "$w/peerdesk-cli.exe" "$work/icons/peerdesk.ico" "$stage/"
	copyright_file "$w/peerdesk.exe" | sed 's/$/\r/' >"$stage/THIRD-PARTY-NOTICES.txt"
	local setup=$work/artifacts/peerdesk-$VERSION-windows-amd64-setup.exe
	local nsis_defs=(-DVERSION="$VERSION" -DVERSION4="$VERSION4" -DPORT="$DEFAULT_PORT"
		-DSTAGE="$stage" -DOUTFILE="$setup")
	if [ "$signing" = 1 ]; then
		nsis_defs+=(-DSIGN_CMD="\"$pkgdir/windows/sign.sh\"")
	fi
	quiet makensis -V2 -INPUTCHARSET UTF8 "${nsis_defs[@]}" "$pkgdir/windows/peerdesk.nsi"
	sign_windows "$setup"

	cp "$w/peerdesk.exe" "$work/artifacts/peerdesk-$VERSION-windows-amd64.exe"
	cp "$w/peerdesk-cli.exe" "$work/artifacts/peerdesk-cli-$VERSION-windows-amd64.exe"
}

# --- main --------------------------------------------------------------------

signing=0
if [ "$want_windows" = 1 ]; then
	if "$pkgdir/windows/sign.sh" --check; then
		signing=1
		echo "dist.sh: signing Windows artifacts with osslsigncode"
	else
		echo "dist.sh: signing skipped: set PEERDESK_SIGN_PKCS12 (or PEERDESK_SIGN_CERT and PEERDESK_SIGN_KEY) to sign the Windows artifacts"
	fi
fi

[ "$want_linux" = 0 ] || linux_build
[ "$want_windows" = 0 ] || windows_build
step_end

mkdir -p "$out"
# Replace what an earlier run left, keep anything else in the folder.
rm -f "$out"/peerdesk[-_]* "$out/SHA256SUMS"
(cd "$work/artifacts" && sha256sum -- * >SHA256SUMS)
cp "$work/artifacts/"* "$out/"

total_ms=$((($(date +%s%N) - total_start) / 1000000))
echo
echo "Timings:"
printf '  %s\n' "${timings[@]}"
printf '  %-44s %6d.%01ds\n' "total" $((total_ms / 1000)) $((total_ms % 1000 / 100))
echo
echo "Artifacts in $out:"
for f in "$work/artifacts"/*; do
	size=$(stat -c %s "$f")
	printf '  %-52s %9s  %12d bytes\n' "$(basename "$f")" "$(numfmt --to=iec --suffix=B "$size")" "$size"
done
