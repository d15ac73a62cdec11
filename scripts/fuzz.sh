#!/usr/bin/env bash
# Runs every fuzz target of the repo (each `func FuzzXxx(` in a _test.go
# file) for FUZZTIME each: scripts/fuzz.sh [FUZZTIME], default 10s.
# Targets are found with grep, so new ones are picked up without edits here.
# A failing input is saved by go test under the package's testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-10s}
go=${GO:-go}

mapfile -t files < <(grep -rlE --include='*_test.go' \
	--exclude-dir=.git --exclude-dir=.cache --exclude-dir=testdata --exclude-dir=vendor \
	'^func Fuzz[A-Za-z0-9_]*\(' . | sort)

ran=0
failed=()
for file in "${files[@]}"; do
	dir=$(dirname "$file")
	for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file"); do
		echo "== fuzz $dir $name ($fuzztime)"
		if ! "$go" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir"; then
			failed+=("$dir $name")
		fi
		ran=$((ran + 1))
	done
done

echo "fuzz: $ran targets, ${#failed[@]} failed, $fuzztime each"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
	exit 1
fi
