#!/usr/bin/env bash
# Authenticode-signs Windows files in place with osslsigncode. scripts/dist.sh
# calls it for the exes and the installer, and makensis for the uninstaller
# (!uninstfinalize), so there is one signing path for every artifact.
#
# Usage: packaging/windows/sign.sh FILE...
#        packaging/windows/sign.sh --check   (exit 0 if a certificate is set)
#
# The certificate comes from the environment, never from arguments, so that it
# cannot leak through `ps` or CI logs:
#   PEERDESK_SIGN_PKCS12=FILE.p12|.pfx         certificate + key in one file, or
#   PEERDESK_SIGN_CERT=FILE + PEERDESK_SIGN_KEY=FILE   PEM/DER certificate and key
#   PEERDESK_SIGN_PASSWORD                     password of the .p12 or the key (optional)
#   PEERDESK_SIGN_TIMESTAMP_URL                RFC 3161 timestamp server (optional;
#                                              without it signatures expire with the cert)
set -euo pipefail

die() {
	echo "sign.sh: $*" >&2
	exit 1
}

configured() {
	[ -n "${PEERDESK_SIGN_PKCS12:-}" ] || { [ -n "${PEERDESK_SIGN_CERT:-}" ] && [ -n "${PEERDESK_SIGN_KEY:-}" ]; }
}

if [ "${1:-}" = "--check" ]; then
	configured
	exit
fi
[ "$#" -gt 0 ] || die "usage: sign.sh FILE... | --check"
configured || die "no certificate: set PEERDESK_SIGN_PKCS12, or PEERDESK_SIGN_CERT and PEERDESK_SIGN_KEY"
command -v osslsigncode >/dev/null 2>&1 || die "osslsigncode is not installed (scripts/dist-deps.sh)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

args=(sign -h sha256 -n "Peerdesk" -i "https://github.com/peerdesk/peerdesk")
if [ -n "${PEERDESK_SIGN_PKCS12:-}" ]; then
	[ -r "$PEERDESK_SIGN_PKCS12" ] || die "cannot read PEERDESK_SIGN_PKCS12=$PEERDESK_SIGN_PKCS12"
	args+=(-pkcs12 "$PEERDESK_SIGN_PKCS12")
else
	[ -r "$PEERDESK_SIGN_CERT" ] || die "cannot read PEERDESK_SIGN_CERT=$PEERDESK_SIGN_CERT"
	[ -r "$PEERDESK_SIGN_KEY" ] || die "cannot read PEERDESK_SIGN_KEY=$PEERDESK_SIGN_KEY"
	args+=(-certs "$PEERDESK_SIGN_CERT" -key "$PEERDESK_SIGN_KEY")
fi
if [ -n "${PEERDESK_SIGN_PASSWORD:-}" ]; then
	# A file, not -pass: command lines are visible to every local user.
	(umask 077 && printf '%s' "$PEERDESK_SIGN_PASSWORD" >"$tmp/pass")
	args+=(-readpass "$tmp/pass")
fi
if [ -n "${PEERDESK_SIGN_TIMESTAMP_URL:-}" ]; then
	args+=(-ts "$PEERDESK_SIGN_TIMESTAMP_URL")
fi

for f in "$@"; do
	[ -f "$f" ] || die "no such file: $f"
	# osslsigncode cannot sign in place; write beside and replace.
	if ! osslsigncode "${args[@]}" -in "$f" -out "$tmp/signed" >"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		die "signing $f failed"
	fi
	mv -f "$tmp/signed" "$f"
	echo "signed: $f"
done
