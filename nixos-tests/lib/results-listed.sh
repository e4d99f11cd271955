#!/bin/sh
# Checks that results/README.md's table names every committed file of
# results/ and nothing else: a row's first cell names files (`a.json`, `.md`
# after it meaning a.md, `crash-*.json` any such file).
# usage: sh nixos-tests/lib/results-listed.sh ROOT   (exits 1 and says what differs)
set -u
root=${1:?usage: results-listed.sh ROOT}
listed=$(mktemp) committed=$(mktemp)
trap 'rm -f "$listed" "$committed"' EXIT
sed -n 's/^| \(`[^|]*\) |.*/\1/p' "$root/results/README.md" | tr -d '`' | tr ',' '\n' |
    awk '{ gsub(/ /, "") } /^\./ { print stem $0; next } NF { print; stem = $0; sub(/\.[^.]*$/, "", stem) }' \
        >"$listed"
(cd "$root" && git ls-files results) | sed 's|^results/||' | grep -v '^README\.md$' | sort >"$committed"
rc=0
while read -r f; do
    # shellcheck disable=SC2254 # the listed name is a pattern
    found=$(while read -r c; do case $c in $f) echo "$c" ;; esac; done <"$committed")
    [ -n "$found" ] || { echo "results/README.md lists $f: no such committed file"; rc=1; }
done <"$listed"
while read -r c; do
    hit=
    while read -r f; do
        # shellcheck disable=SC2254
        case $c in $f) hit=1 ;; esac
    done <"$listed"
    [ -n "$hit" ] || { echo "results/$c is committed but results/README.md does not list it"; rc=1; }
done <"$committed"
exit $rc
