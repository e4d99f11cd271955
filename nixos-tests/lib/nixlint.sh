# Checks of the Nix side that run without Nix builds (no store, no nixpkgs):
# what the expressions generate is computed by `nix-instantiate --eval`
# against the stand-ins of nix-standin.nix, then checked as nixpkgs would
# check it at build time. Needs assert.sh; COMMLAB_ROOT is the source tree.
#
#   nixlint_parse          every .nix file parses
#   nixlint_shell_apps     every writeShellApplication's script: ShellCheck as
#                          its check phase runs it, bash -n, no trap-only function
#   nixlint_vm_glue        every VM testScript: pyflakes and mypy as the
#                          test driver runs them (node names, driver stub)
#   nixlint_vm_dryrun      every VM testScript run against a recording driver
#                          stub (vm/driver-record.py); every shell command it
#                          would run passes `bash -n -c 'set -euo pipefail; CMD'`
#                          (as the driver runs it); the transcript is printed
#   nixlint_plans          every plan (plans/*.json) passes the schema check
#                          of lib/plan.jq (unknown operation, node, setting or
#                          parameter; a parameter without a lab value or why;
#                          a broken product constraint; a run-time override of
#                          a static setting)
#   nixlint_options        every option path the VM tests define is a row of
#                          nixpkgs-options.tsv, none removed or renamed; every
#                          node states its memory
#   nixlint_module_help BIN
#                          every setting of pkgs/module.nix is an option in
#                          the --help of its binary in BIN, and each integer
#                          setting's type is that binary's range

_nixlint_standin=${COMMLAB_ROOT:-.}/nixos-tests/lib/nix-standin.nix

# _nixlint_eval BODY [FILE]: the JSON of the Nix expression BODY, in which
# `s` is nix-standin.nix's set and `file` the path FILE.
_nixlint_eval() {
    _err=$(mktemp)
    nix-instantiate --store dummy:// --eval --strict --json \
        --argstr standin "$_nixlint_standin" --argstr file "${2:-/}" \
        -E "{ standin, file }: let s = import standin; in $1" 2>"$_err"
    _rc=$?
    # A harmless warning on hosts without a nixbld group.
    grep -v "build-users-group' does not exist" "$_err" >&2
    rm -f "$_err"
    return $_rc
}

nixlint_parse() {
    _files=$(cd "$COMMLAB_ROOT" && git ls-files '*.nix' 2>/dev/null || find . -name '*.nix')
    for _f in $_files; do
        check "nix parse: $_f" nix-instantiate --parse "$COMMLAB_ROOT/$_f"
    done
}

# Functions of SCRIPT that no line calls, a trap aside: ShellCheck 0.11
# reports each as never invoked (SC2329), which fails writeShellApplication's
# check phase; older ShellCheck (Debian's 0.9) lacks that check.
_nixlint_trap_only() { # SCRIPT
    sed -n -e 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{\{0,1\}[[:space:]]*$/\1/p' \
        -e 's/^[[:space:]]*function[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$1" |
        while read -r _fn; do
            grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*trap[[:space:]]' \
                -e "^[[:space:]]*${_fn}[[:space:]]*()" -e "^[[:space:]]*function[[:space:]]\{1,\}${_fn}" "$1" |
                grep -qw -- "$_fn" || echo "$_fn"
        done
}

nixlint_shell_apps() {
    # Only pkgs/ is looked at: a writeShellApplication anywhere else would
    # go unchecked.
    _outside=$(cd "$COMMLAB_ROOT" && git ls-files '*.nix' 2>/dev/null |
        grep -v -e '^pkgs/' -e '^nixos-tests/lib/nix-standin.nix$' |
        xargs grep -l 'writeShellApplication' 2>/dev/null)
    if [ -n "$_outside" ]; then
        fail "writeShellApplication only in pkgs/ (move it to a callPackage file there): $_outside"
    fi
    _dir=$(mktemp -d)
    for _nix in "$COMMLAB_ROOT"/pkgs/*.nix; do
        grep -q 'writeShellApplication' "$_nix" || continue
        _name=pkgs/$(basename "$_nix")
        _app="(s.shellApplication (/. + file))"
        if ! _nixlint_eval "$_app.text" "$_nix" >"$_dir/text.json" ||
            ! _nixlint_eval "$_app.shellcheckFlags" "$_nix" >"$_dir/flags.json"; then
            fail "$_name: its writeShellApplication evaluates with the stand-ins (nix-standin.nix)"
            continue
        fi
        jq -r . "$_dir/text.json" >"$_dir/script"
        jq -r '.[]' "$_dir/flags.json" >"$_dir/flags"
        # The flags of its check phase: none but those it was given; the
        # shell (bash) and severity (all findings) are ShellCheck's defaults.
        # shellcheck disable=SC2046
        if shellcheck $(cat "$_dir/flags") "$_dir/script" >"$_dir/sc.log" 2>&1; then
            pass "$_name: ShellCheck as writeShellApplication runs it ($(shellcheck --version | sed -n 's/^version: //p'))"
        else
            fail "$_name: ShellCheck as writeShellApplication runs it"
            head -n 40 "$_dir/sc.log"
        fi
        check "$_name: bash -n -O extglob (writeShellApplication's dry run)" bash -n -O extglob "$_dir/script"
        _fns=$(_nixlint_trap_only "$_dir/script")
        assert_eq "$_name: every function is called outside a trap (SC2329 in ShellCheck 0.11)" "" "$_fns"
    done
    rm -rf "$_dir"
}

# The driver's own globals, as its generate-driver-symbols lists them for
# pyflakes.
_NIXLINT_DRIVER_SYMBOLS="start_all,test_script,machines,vlans,driver,log,os,create_machine,subtest,run_tests,join_all,retry,serial_stdout_off,serial_stdout_on,polling_condition,Machine"

# _nixlint_eval_into NAME CHECK BODY [FILE]: a fresh $_dir holding the JSON
# of BODY (as _nixlint_eval) in $_dir/NAME; when it does not evaluate, CHECK
# fails, $_dir is gone and the status is 1.
_nixlint_eval_into() {
    _dir=$(mktemp -d)
    _name=$1 _check=$2
    shift 2
    _nixlint_eval "$@" >"$_dir/$_name" && return 0
    fail "$_check"
    rm -rf "$_dir"
    return 1
}

nixlint_vm_glue() {
    _nixlint_eval_into tests.json "VM tests evaluate with the stand-ins (nix-standin.nix)" s.vmTests || return 0
    for _t in $(jq -r 'keys[]' "$_dir/tests.json"); do
        jq -r --arg t "$_t" '.[$t].script' "$_dir/tests.json" >"$_dir/$_t.py"
        _nodes=$(jq -r --arg t "$_t" '.[$t].nodes | join(",")' "$_dir/tests.json")
        if PYFLAKES_BUILTINS="$_nodes,$_NIXLINT_DRIVER_SYMBOLS" pyflakes3 "$_dir/$_t.py" >"$_dir/pyflakes.log" 2>&1; then
            pass "$_t: testScript passes pyflakes (builtins: its nodes $_nodes)"
        else
            fail "$_t: testScript passes pyflakes"
            sed "s|$_dir/||" "$_dir/pyflakes.log" | head -n 40
        fi
        # As the driver type-checks it: the driver's types, one
        # "NODE: Machine" line per node, then the script.
        {
            cat "$COMMLAB_ROOT/nixos-tests/vm/driver-stub.py"
            jq -r --arg t "$_t" '.[$t].nodes[] | "\(.): Machine"' "$_dir/tests.json"
            cat "$_dir/$_t.py"
        } >"$_dir/$_t.typed.py"
        if (cd "$_dir" && mypy --no-implicit-optional --pretty --no-color-output \
            --cache-dir=/dev/null "$_t.typed.py" >mypy.log 2>&1); then
            pass "$_t: testScript passes mypy against the driver stub"
        else
            fail "$_t: testScript passes mypy against the driver stub"
            head -n 40 "$_dir/mypy.log"
        fi
    done
    rm -rf "$_dir"
}

nixlint_vm_dryrun() {
    _nixlint_eval_into tests.json "VM tests evaluate with the stand-ins (nix-standin.nix)" s.vmTests || return 0
    for _t in $(jq -r 'keys[]' "$_dir/tests.json"); do
        mkdir "$_dir/$_t"
        jq -r --arg t "$_t" '.[$t].script' "$_dir/tests.json" >"$_dir/$_t.py"
        # shellcheck disable=SC2046 # the node names are words
        if ! python3 "$COMMLAB_ROOT/nixos-tests/vm/driver-record.py" "$_dir/$_t.py" "$_dir/$_t" \
            $(jq -r --arg t "$_t" '.[$t].nodes[]' "$_dir/tests.json") >"$_dir/$_t.log" 2>&1; then
            fail "$_t: testScript runs to its end against the recording driver stub"
            tail -n 20 "$_dir/$_t.log"
            continue
        fi
        echo "# $_t: the commands its testScript runs (dry run)"
        sed 's/^/#   /' "$_dir/$_t/transcript.txt"
        _bad=
        _n=0
        for _c in "$_dir/$_t"/cmd.*; do
            [ -e "$_c" ] || continue
            _n=$((_n + 1))
            if ! bash -n -c "set -euo pipefail; $(cat "$_c")" 2>"$_dir/bash.err"; then
                _bad="$_bad ${_c##*.}"
                echo "#   command [${_c##*.}] is not valid bash: $(head -n 3 "$_dir/bash.err")"
            fi
        done
        assert_eq "$_t: every command of its testScript ($_n) passes bash -n as the driver runs it" "" "$_bad"
    done
    rm -rf "$_dir"
}

nixlint_plans() {
    _nixlint_eval_into settings.json "pkgs/module-settings.nix evaluates" s.moduleSettings || return 0
    jq 'map_values(.settings)' "$_dir/settings.json" >"$_dir/names.json"
    # The fault matrix's plans (one per model, lib/plan.jq plan_matrix) too.
    _mx=$COMMLAB_ROOT/nixos-tests/matrix/matrix.json
    assert_eq "matrix/matrix.json: every role bound or its absence explained, templates over roles only" "" \
        "$(jq -L "$COMMLAB_ROOT/nixos-tests/lib" -r -n --slurpfile m "$_mx" 'include "plan"; plan_matrix_errors($m[0])' 2>&1)"
    for _m in $(jq -r '.models | keys[]' "$_mx"); do
        jq -L "$COMMLAB_ROOT/nixos-tests/lib" -n --slurpfile m "$_mx" --arg mo "$_m" \
            'include "plan"; plan_matrix($m[0]; $mo; "short")' >"$_dir/matrix-$_m.json" ||
            fail "matrix/matrix.json: the plan of $_m is generated"
    done
    for _p in "$COMMLAB_ROOT"/nixos-tests/plans/*.json "$_dir"/matrix-*.json; do
        [ -e "$_p" ] || continue
        _name=plans/$(basename "$_p")
        case $_p in "$_dir"/*) _name="matrix/matrix.json (the plan of $(basename "${_p#*/matrix-}" .json))" ;; esac
        if ! jq -L "$COMMLAB_ROOT/nixos-tests/lib" -r -n --slurpfile p "$_p" --slurpfile s "$_dir/names.json" \
            'include "plan"; $p[0] | plan_errors($s[0])' >"$_dir/errors" 2>&1; then
            fail "$_name: is JSON the schema check can read"
            head -n 5 "$_dir/errors"
            continue
        fi
        # Each phase a step names is a phase_NAME function of its scenario script.
        jq -r '.. | objects | select(.op? == "phase") | "\(.script) \(.phase)"' "$_p" | sort -u |
            while read -r _s _ph; do
                _f=$COMMLAB_ROOT/nixos-tests/scenarios/$_s.sh
                if [ ! -f "$_f" ]; then
                    echo "phase $_s $_ph: no scenarios/$_s.sh"
                elif ! grep -q "^phase_$(echo "$_ph" | tr - _)()" "$_f"; then
                    echo "phase $_s $_ph: not a phase of scenarios/$_s.sh"
                fi
            done >>"$_dir/errors"
        assert_eq "$_name: passes the plan schema check" "" "$(cat "$_dir/errors")"
    done
    rm -rf "$_dir"
    # Background steps and series are files named by their names: two names,
    # two files, with the jq this machine has.
    # shellcheck disable=SC2016 # expanded by the inner sh
    check "plans: two step names give two file names" sh -c '. "$1/nixos-tests/lib/plan.sh"
        a=$(_plan_step={\"name\":\"load/a\"}; _plan_key .name)
        b=$(_plan_step={\"name\":\"load/b\"}; _plan_key .name)
        [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] && [ "${a#*/}" = "$a" ]' - "$COMMLAB_ROOT"
}

nixlint_module_help() { # BIN
    _nixlint_eval_into settings.json "pkgs/module-settings.nix evaluates" s.moduleSettings || return 0
    for _svc in $(jq -r 'keys[]' "$_dir/settings.json"); do
        _bin=$(jq -r --arg s "$_svc" '.[$s].binary' "$_dir/settings.json")
        if ! "$1/$_bin" --help >"$_dir/$_bin.help" 2>&1; then
            fail "module: $_bin --help runs"
            continue
        fi
        _missing=
        for _o in $(jq -r --arg s "$_svc" '.[$s].settings[]' "$_dir/settings.json"); do
            grep -Eq -- "^[[:space:]]*--$_o(=|[[:space:]]|\$)" "$_dir/$_bin.help" || _missing="$_missing --$_o"
        done
        assert_eq "module: every setting of services.commlab.$_svc is an option in $_bin --help" "" "$_missing"
        # Each integer setting's NixOS type is the binary's range: it takes
        # both ends and refuses one past each, so that no value the module
        # lets through stops the unit at start (unbounded: the largest long).
        _wrong=
        for _r in $(jq -r --arg s "$_svc" '.[$s].ranges | to_entries[]
            | "\(.key):\(.value.lo):\(.value.hi // "9223372036854775807"):\(.value.hi != null)"' "$_dir/settings.json"); do
            _o=${_r%%:*} _v=${_r#*:}
            _lo=${_v%%:*} _v=${_v#*:}
            _hi=${_v%%:*} _bounded=${_v#*:}
            for _case in "$_lo:take" "$((_lo - 1)):refuse" "$_hi:take"; do
                [ "$(_nixlint_takes "$1/$_bin" "$_o" "${_case%:*}" "$_dir")" = "${_case#*:}" ] ||
                    _wrong="$_wrong --$_o=${_case%:*}(${_case#*:}s?)"
            done
            if [ "$_bounded" = true ] && [ "$(_nixlint_takes "$1/$_bin" "$_o" "$((_hi + 1))" "$_dir")" != refuse ]; then
                _wrong="$_wrong --$_o=$((_hi + 1))(refuses?)"
            fi
        done
        assert_eq "module: every integer setting of services.commlab.$_svc has $_bin's range" "" "$_wrong"
    done
    rm -rf "$_dir"
}

# _nixlint_takes BIN NAME VALUE DIR: "refuse" when BIN refuses --NAME=VALUE
# (its message names the option), else "take". Either way the service stops
# before it serves: its listen address has no valid port (checked after every
# option), and its Kafka, where it has one, is a closed port.
_nixlint_takes() {
    _k=
    grep -q -- '--kafka-brokers=' "$4/$(basename "$1").help" && _k=--kafka-brokers=127.0.0.1:1
    timeout 10 "$1" --listen=127.0.0.1:99999 --db="$4/takes.db" $_k "--$2=$3" >"$4/takes.log" 2>&1
    if grep -q -- "^--$2: " "$4/takes.log"; then echo refuse; else echo take; fi
    rm -f "$4"/takes.db*
}

# Rows of nixpkgs-options.tsv as JSON: [{ scope, option, segs, status, walk }].
_nixlint_option_rows() { # TSV
    grep -v '^#' "$1" | sed 1d |
        jq -R -s 'split("\n") | map(select(length > 0) | split("\t")
            | { scope: .[0], option: .[1], segs: (.[1] | split(".")), revision: .[4], status: .[5], walk: .[6], fields: length })'
}

# Every option path a VM test defines (its nodes' definitions, pkgs/module.nix
# followed through `imports`, and the test's own attributes) is a row of the
# option facts table, and no such row is marked removed or renamed: a
# definition of a removed option stops `nix flake check` at evaluation.
# Every node states its memory. TABLE defaults to nixpkgs-options.tsv.
nixlint_options() { # [TABLE]
    _table=${1:-$COMMLAB_ROOT/nixos-tests/lib/nixpkgs-options.tsv}
    _nixlint_eval_into paths.json "option paths of the VM tests evaluate (nix-option-paths.nix)" \
        "import (/. + file) s" "$COMMLAB_ROOT/nixos-tests/lib/nix-option-paths.nix" || return 0
    _nixlint_option_rows "$_table" >"$_dir/rows.json"
    _bad=$(jq -r '.[] | select(.fields != 7 or (.status | test("^(ok|removed|renamed->.+)$") | not)
            or (.walk | test("^(leaf|ends)$") | not) or .revision == "" or (.option | test("\"")))
        | .option' "$_dir/rows.json")
    assert_eq "nixpkgs-options.tsv: every row has 7 fields, a revision, a status (ok, removed, renamed->NEW) and a walk (leaf, ends)" "" "$_bad"
    # PATH (a list of segments) is covered by ROW when the row's segments
    # are its first ones (<name> stands for any) and the row is the path's
    # end, or ends the walk.
    jq -r --slurpfile rows "$_dir/rows.json" '
        def covers($p): . as $r
            | ($r.segs | length) as $n
            | ($n == ($p | length) or ($r.walk == "ends" and $n <= ($p | length)))
              and all(range(0; $n); $r.segs[.] == "<name>" or $r.segs[.] == $p[.]);
        .[] | . as $e
        | [$rows[0][] | select(.scope == $e.scope and covers($e.path))] as $m
        | ($e.path | map(if test("[.]") then "\"\(.)\"" else . end) | join(".")) as $shown
        | if ($m | length) == 0 then "\($e.test)\tmissing\t\($e.scope) \($shown)"
          elif any($m[]; .status != "ok") then "\($e.test)\t\([$m[] | select(.status != "ok") | .status] | join(","))\t\($e.scope) \($shown)"
          else "\($e.test)\tok\t\($e.scope) \($shown)" end' "$_dir/paths.json" | sort -u >"$_dir/verdicts"
    for _t in $(cut -f1 "$_dir/verdicts" | sort -u); do
        _n=$(awk -F'\t' -v t="$_t" '$1 == t' "$_dir/verdicts" | wc -l)
        _wrong=$(awk -F'\t' -v t="$_t" '$1 == t && $2 != "ok" { print "  " $3 ": " $2 }' "$_dir/verdicts")
        assert_eq "$_t: each of its $_n option paths is in nixpkgs-options.tsv, none removed or renamed" "" "$_wrong"
    done
    _nomem=$(jq -r 'map(select(.scope == "node" and .node != "")) | group_by(.test + " " + .node)
        | .[] | select(all(.[]; .path != ["virtualisation", "memorySize"])) | "\(.[0].test) \(.[0].node)"' "$_dir/paths.json")
    assert_eq "every VM node states virtualisation.memorySize" "" "$_nomem"
    rm -rf "$_dir"
}
