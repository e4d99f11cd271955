#!/bin/sh
# Evaluates every VM node's configuration with nixpkgs' own lib.evalModules
# against nixpkgs' own modules of what the nodes use (lib/nixpkgs-eval.nix):
# a removed option, a wrong type or a failed assertion is reported as
# nixpkgs reports it. A development tool: nixpkgs is not in this repository,
# so the test command does not run it.
#   nixpkgs-eval.sh DIR
# DIR is a folder of nixpkgs files, kept outside this repository: lib/ (the
# nixpkgs lib, e.g. a copy of nix-community/nixpkgs.lib) and these files of
# nixpkgs at the pinned revision or the nearest one at hand:
#   nixos/modules/services/amqp/rabbitmq.nix
#   nixos/modules/services/misc/apache-kafka.nix
#   nixos/modules/services/networking/epmd.nix
#   nixos/modules/services/networking/firewall.nix
#   nixos/modules/virtualisation/disk-size-option.nix
# Prints "PASS TEST NODE" or "FAIL TEST NODE: REASON" for every node; exits 1
# when one failed, 2 on bad usage. Needs nix-instantiate and jq.
set -u
usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
[ $# -eq 1 ] || usage
case $1 in -h | --help) usage ;; esac
dir=$(cd "$1" 2>/dev/null && pwd) || { echo "nixpkgs-eval.sh: no folder '$1'" >&2; exit 2; }
for f in lib/default.nix \
    nixos/modules/services/amqp/rabbitmq.nix \
    nixos/modules/services/misc/apache-kafka.nix \
    nixos/modules/services/networking/epmd.nix \
    nixos/modules/services/networking/firewall.nix \
    nixos/modules/virtualisation/disk-size-option.nix; do
    [ -f "$dir/$f" ] || { echo "nixpkgs-eval.sh: $dir/$f is missing" >&2; exit 2; }
done
expr=$(cd "$(dirname "$0")" && pwd)/nixpkgs-eval.nix
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

evaluate() { # ARGS...: the JSON of nixpkgs-eval.nix's attribute, errors in $tmp/err
    nix-instantiate --store dummy:// --eval --strict --json "$expr" \
        --argstr nixpkgs "$dir" "$@" 2>"$tmp/err"
}
# An evaluation error's message, without nixpkgs lib's deprecation traces.
reason() {
    sed -n '/^error:/,$p' "$tmp/err" | grep -v -e "use '--show-trace'" -e '^$'
}

if ! evaluate -A nodes >"$tmp/nodes.json"; then
    echo "nixpkgs-eval.sh: the VM tests do not evaluate:" >&2
    reason >&2
    exit 1
fi
failed=0
for tn in $(jq -r '.[] | sub(" "; ":")' "$tmp/nodes.json"); do
    test=${tn%%:*}
    node=${tn#*:}
    if evaluate --argstr test "$test" --argstr node "$node" -A verdict >"$tmp/verdict.json"; then
        v=$(jq -r . "$tmp/verdict.json")
        if [ -z "$v" ]; then
            echo "PASS $test $node"
            continue
        fi
        echo "FAIL $test $node: failed assertion: $v"
    else
        echo "FAIL $test $node: $(reason)"
    fi
    failed=$((failed + 1))
done
n=$(jq length "$tmp/nodes.json")
echo "$((n - failed)) of $n nodes evaluate against nixpkgs' modules in $dir"
[ "$failed" -eq 0 ]
