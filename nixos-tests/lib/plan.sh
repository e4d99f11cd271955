# The local plan runner: runs a plan (nixos-tests/plans/*.json, format in
# plans/README.md) with the process backend (lab.sh, hosts.sh, faults.sh).
# Source after local.sh. plan_run PLAN runs its steps, then its local_only
# steps, and prints which steps ran, which ran a substitute (and which) and
# which were skipped (and why). Parameters take their "local" values;
# PLAN_PARAM_<name>=VALUE in the environment overrides one (a slower build).
#
#   plan_run PLAN     returns non-zero when the plan is malformed or a step
#                     could not be carried out (the phases' checks count in
#                     assert.sh's totals as usual)

_plan_jq() { # ARGS...: jq with the plan's definitions (plan.jq)
    jq -L "$LIB" "$@"
}

# Resolves a step's value (STEP JSON, jq PATH) for the local lab, with the
# node URLs and records of this run.
_plan_val() { # JQ_PATH
    printf '%s' "$_plan_step" | _plan_jq -r --slurpfile p "$_plan_file" \
        --slurpfile u "$_plan_dir/urls.json" --slurpfile r "$_plan_dir/records.json" \
        "include \"plan\"; $1 | plan_value(\$p[0]; \"local\"; \$u[0]; \$r[0])"
}

# _plan_key JQ_PATH: the step's field as a file name (base64, "/" as "_";
# jq 1.6 has no @base32): two fields give two names.
_plan_key() {
    printf '%s' "$_plan_step" | jq -r "$1 | tostring | @base64 | gsub(\"/\"; \"_\")"
}

_plan_note() { # KIND TEXT: ran | substituted | skipped | failed (the step: $_pl_name)
    printf '%s\n' "$2" >>"$_plan_dir/$1"
    printf '%s\n' "$_pl_name" >>"$_plan_dir/noted"
    [ "$1" = ran ] || echo "# plan: $1: $2"
}

# Extensions (lib/plan-*.sh) hook in by name: PLAN_STEP_HOOKS (a step: its
# fields in _plan_step, _pl_op, _pl_node), PLAN_START_HOOKS (a role node in
# boot: _nn), PLAN_URL_HOOKS (print "NAME VALUE" lines for urls.json). A hook
# returns 0 (done), 1 (failed) or 2 (not its business).
_plan_run_hooks() { # HOOKS: the first answer other than 2, else 2
    for _hk in $1; do
        "$_hk"
        _hrc=$?
        [ $_hrc = 2 ] || return $_hrc
    done
    return 2
}

_plan_urls() { # every started service node's URL, and what PLAN_URL_HOOKS add
    { for _n in $(_plan_jq -r '.nodes | to_entries[] | select(.value.service) | .key' "$_plan_file"); do
        [ -f "$LAB_DIR/$_n.port" ] || [ -f "$LAB_DIR/$_n.lastport" ] || continue
        printf '%s %s\n' "$_n" "$(lab_url "$_n" 2>/dev/null || echo "http://$(_lab_addr "$_n"):$(cat "$LAB_DIR/$_n.lastport")")"
    done
    for _h in ${PLAN_URL_HOOKS:-}; do "$_h"; done; } | jq -R -n '[inputs | split(" ") | {(.[0]): .[1]}] | add // {}' >"$_plan_dir/urls.json"
}

_plan_record() { # NAME VALUE
    jq --arg k "$1" --arg v "$2" '.[$k] = ($v | tonumber? // $v)' "$_plan_dir/records.json" \
        >"$_plan_dir/records.tmp" && mv "$_plan_dir/records.tmp" "$_plan_dir/records.json"
}

# A node's static settings as its binary's options: --name=value, a true
# boolean as --name, a false one dropped (the rules of pkgs/module.nix).
_plan_args() { # NODE
    _plan_jq -r --slurpfile p "$_plan_file" --slurpfile u "$_plan_dir/urls.json" --arg n "$1" -n \
        'include "plan"; $p[0] as $plan | $plan.nodes[$n].settings // {} | to_entries[]
         | .key as $k | (.value | plan_value($plan; "local"; $u[0]; {}))
         | if . == true then "--\($k)" elif . == false then empty else "--\($k)=\(.)" end | @sh' |
        tr '\n' ' '
}

_plan_start_node() { # NODE
    _nn=$1
    _svc=$(_plan_jq -r --arg n "$_nn" '.nodes[$n].service // empty' "$_plan_file")
    if [ -z "$_svc" ]; then
        # A role node (a broker): the PLAN_START_HOOKS that know its role.
        _plan_run_hooks "${PLAN_START_HOOKS:-}"
        [ $? = 1 ] && return 1
        return 0
    fi
    # The words are shell-quoted by jq.
    eval "set -- $(_plan_args "$_nn")"
    lab_start "$_nn" "commlab-$_svc" "$@" || return 1
    _plan_urls
}

_plan_url() { jq -r --arg n "$1" '.[$n]' "$_plan_dir/urls.json"; }

_plan_configure() { # NODE BODY
    _c=$(http_code POST "$(_plan_url "$1")/configure" "$2")
    [ "$_c" = 200 ] || { echo "plan: POST /configure $2 to $1 answered $_c" >&2; return 1; }
}

# A phase: scenarios/SCRIPT.sh PHASE ARGS, with the plan's env and the step's.
_plan_phase() {
    _script=$(_plan_val .script) _ph=$(_plan_val .phase)
    _args=$(_plan_val '[.args // [] | .[] | plan_value($p[0]; "local"; $u[0]; $r[0]) | tostring] | @sh')
    _env=$(printf '%s' "$_plan_step" | _plan_jq -r --slurpfile p "$_plan_file" \
        --slurpfile u "$_plan_dir/urls.json" --slurpfile r "$_plan_dir/records.json" \
        'include "plan"; ($p[0].env // {}) + (.env // {}) | to_entries[]
         | "\(.key)=\(.value | plan_value($p[0]; "local"; $u[0]; $r[0]) | tostring)" | @sh' | tr '\n' ' ')
    _out=$_plan_out/$(_plan_val '.out // .script')
    mkdir -p "$_out"
    eval "set -- $_args"
    # shellcheck disable=SC2086 # _env: shell-quoted words from jq
    eval "env SEED=\"\${SEED:-1}\" OUT_DIR=\"\$_out\" LOADGEN=\"\$LOADGEN\" PROBE=\"\$PROBE\" $_env" \
        'sh "$COMMLAB_ROOT/nixos-tests/scenarios/$_script.sh" "$_ph" "$@"'
}

# One step (its JSON in _plan_step); its outcome noted.
# shellcheck disable=SC2120 # "$@": set by eval for a report's arguments
_plan_step_run() {
    # The step's plain fields at once: a crash right after a phase must not
    # wait for jq runs (pending-crash kills with orders in flight).
    _pl_name='' _pl_op='' _pl_node='' _pl_needs='' _pl_bg=''
    eval "$(printf '%s' "$_plan_step" | jq -r '@sh "_pl_name=\(.name) _pl_op=\(.op) _pl_node=\(.node // "")
        _pl_needs=\(.needs // "") _pl_bg=\(.background // false)"')"
    if [ "$_pl_needs" = hosts ] && [ -z "${HOSTS_ID:-}" ]; then
        _plan_note skipped "$_pl_name ($_pl_op): needs hosts mode (root, ip netns, nft)"
        skip "plan step $_pl_name ($_pl_op)" "hosts mode: needs root, ip netns and nft"
        return 0
    fi
    _plan_run_hooks "${PLAN_STEP_HOOKS:-}"
    _hrc=$?
    [ $_hrc = 2 ] || return $_hrc
    case $_pl_op in
    boot)
        for _n in $(_plan_val '.order[]'); do _plan_start_node "$_n" || return 1; done ;;
    phase)
        if [ "$_pl_bg" = true ]; then
            (_plan_phase >"$_plan_dir/bg.$(_plan_key .name).log" 2>&1
                echo $? >"$_plan_dir/bg.$(_plan_key .name).rc") &
        else
            _plan_phase || { echo "plan: step '$_pl_name' failed (phase $_script $_ph)" >&2; return 1; }
        fi ;;
    await)
        _k=$(_plan_key .step)
        wait_until "$(_plan_val '.timeout // 600')" test -f "$_plan_dir/bg.$_k.rc" ||
            { echo "plan: step '$(_plan_val .step)' did not end in time" >&2; return 1; }
        cat "$_plan_dir/bg.$_k.log"
        [ "$(cat "$_plan_dir/bg.$_k.rc")" = 0 ] || return 1 ;;
    sleep) sleep "$(_plan_val .seconds)" ;;
    kill)
        # The supervisor's part: started again at once, same port and state.
        lab_kill "$_pl_node" KILL && lab_restart "$_pl_node" ;;
    crash) lab_kill "$_pl_node" KILL ;;
    stop) lab_kill "$_pl_node" TERM ;;
    start) lab_restart "$_pl_node" ;;
    restart)
        lab_kill "$_pl_node" TERM
        # Settings for one start, as COMMLAB_* variables (the VM: systemctl
        # set-environment); a static option of the same name would win.
        _sets=$(_plan_val '.settings // {} | to_entries[] | "COMMLAB_\(.key | ascii_upcase | gsub("-"; "_"))=\(.value)"')
        for _s in $_sets; do export "${_s?}"; done
        lab_restart "$_pl_node"
        _rc=$?
        for _s in $_sets; do unset "${_s%%=*}"; done
        return $_rc ;;
    wait) wait_healthy "$(_plan_url "$_pl_node")" "$(_plan_val '.timeout // 60')" ;;
    pause) fault_pause "$_pl_node" ;;
    resume) fault_resume "$_pl_node" ;;
    wipe) lab_kill "$_pl_node" KILL && rm -f "$LAB_DIR/$_pl_node".db* ;;
    fault) _plan_configure "$_pl_node" "$(_plan_val '.body | map_values(plan_value($p[0]; "local"; $u[0]; $r[0])) | tojson')" ;;
    delay | undelay)
        _ms=0
        [ "$_pl_op" = delay ] && _ms=$(_plan_val .ms)
        if [ -n "${HOSTS_ID:-}" ] && fault_netem_available; then
            if [ "$_pl_op" = delay ]; then fault_delay "$_pl_node" "$_ms"; else fault_delay_clear "$_pl_node"; fi
        else
            _plan_configure "$_pl_node" "{\"delay_ms\":$_ms,\"mode\":\"none\"}" || return 1
            _why="no netem in this kernel"
            [ -n "${HOSTS_ID:-}" ] || _why="no hosts mode (netem needs a host of its own)"
            _plan_note substituted "$_pl_name ($_pl_op $_pl_node): $_why: the service's delay knob, POST /configure {\"delay_ms\":$_ms}"
            return 0
        fi ;;
    cut)
        for _peer in $(_plan_val '.peers[]'); do fault_cut "$_pl_node" "$_peer" || return 1; done ;;
    heal)
        for _h in "$_pl_node" $(_plan_val '.peers[]'); do fault_heal "$_h"; done ;;
    block) fault_partition "$_pl_node" ;;
    unblock) fault_heal "$_pl_node" ;;
    record)
        case $(_plan_val .what) in
        pid) _v=$(lab_pid "$_pl_node") ;;
        time) _v=$(($(date +%s%N) / 1000000)) ;;
        elapsed_ms) _v=$(($(date +%s%N) / 1000000 - $(_plan_val '$r[0][.since]'))) ;;
        *) echo "plan: step '$_pl_name': unknown record '$(_plan_val .what)' (pid, time, elapsed_ms)" >&2; return 1 ;;
        esac
        _plan_record "$(_plan_val .record)" "$_v"
        echo "# plan: $(_plan_val .record) = $_v" ;;
    unchanged)
        # The same measurement as the record step that made it.
        _rec=$(_plan_val .record)
        _first=$(_plan_val '$r[0][.record]')
        _n=$(jq -r --arg k "$_rec" '[.. | objects | select(.op? == "record" and .record == $k)][0].node' "$_plan_file")
        assert_eq "$_pl_name ($_rec)" "$_first" "$(lab_pid "$_n")" ;;
    report)
        if [ -z "${RESULTS_DIR:-}" ]; then
            _plan_note skipped "$_pl_name (report): RESULTS_DIR is not set"
            return 0
        fi
        eval "set -- $(_plan_val '[.args // [] | .[] | plan_value($p[0]; "local"; $u[0]; $r[0]) | tostring] | @sh')"
        sh "$COMMLAB_ROOT/nixos-tests/report/$(_plan_val .script).sh" "$_plan_out/$(_plan_val .out)" \
            "$RESULTS_DIR" "$@" ;;
    *)
        # plan.jq's schema check stops an unknown op before any step runs;
        # these are in the vocabulary, not yet in this backend.
        echo "plan: step '$_pl_name': operation '$_pl_op' is not implemented by the local backend" >&2
        return 1 ;;
    esac
}

plan_run() { # PLAN
    _plan_file=$1
    _errs=$(_plan_jq -r -n --slurpfile p "$_plan_file" 'include "plan"; $p[0] | plan_errors({})') || {
        echo "plan: $_plan_file is not a readable plan" >&2
        return 2
    }
    if [ -n "$_errs" ]; then
        echo "plan: $_plan_file is malformed:" >&2
        printf '%s\n' "$_errs" >&2
        return 2
    fi
    # Overrides from the environment (PLAN_PARAM_name=value) into a copy.
    _plan_dir=$(mktemp -d)
    env | sed -n 's/^PLAN_PARAM_\([A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' |
        jq -R -n '[inputs | capture("^(?<k>[^ ]+) (?<v>.*)$") | {(.k): (.v | tonumber? // .)}] | add // {}' \
            >"$_plan_dir/overrides.json"
    jq --slurpfile o "$_plan_dir/overrides.json" \
        'reduce ($o[0] | to_entries[]) as $e (.; if .params[$e.key] == null
            then error("PLAN_PARAM_\($e.key): no such parameter") else .params[$e.key].local = $e.value end)' \
        "$_plan_file" >"$_plan_dir/plan.json" || return 2
    _plan_name=$(jq -r .test "$_plan_file")
    _plan_file=$_plan_dir/plan.json
    echo '{}' >"$_plan_dir/records.json"
    echo '{}' >"$_plan_dir/urls.json"
    : >"$_plan_dir/ran"
    : >"$_plan_dir/substituted"
    : >"$_plan_dir/skipped"
    : >"$_plan_dir/failed"
    : >"$_plan_dir/noted"
    # Hosts mode when the plan has steps that need it and this host can.
    if jq -e '.needs // [] | index("hosts")' "$_plan_file" >/dev/null; then
        COMMLAB_HOSTS=1
        # A host for each broker node the lab does not make by default.
        LAB_EXTRA_HOSTS=$(jq -r '[.nodes | to_entries[] | select(.value.role == "rabbitmq") | .key]
            - ["order", "inventory", "notification", "analytics", "rabbitmq"] | join(" ")' "$_plan_file")
        export COMMLAB_HOSTS LAB_EXTRA_HOSTS
    fi
    lab_init || return 1
    _plan_out=${OUT_DIR:-$LAB_DIR/out}
    LOADGEN="$COMMLAB_BIN/loadgen" PROBE="$COMMLAB_BIN/commlab-httpprobe"
    export LOADGEN PROBE
    echo "# plan $_plan_name: local lab in $LAB_DIR${HOSTS_ID:+, hosts mode}"
    _plan_rc=0
    for _list in steps local_only; do
        _plan_jq -c -n --slurpfile p "$_plan_file" --arg l "$_list" \
            'include "plan"; $p[0][$l] // [] | plan_flat($p[0]; "local")' >"$_plan_dir/$_list.jsonl"
        while IFS= read -r _plan_step <&3; do
            _failed=$(assert_failed_count)
            if _plan_step_run; then
                echo "# plan step done: $_pl_name"
                grep -qxF "$_pl_name" "$_plan_dir/noted" ||
                    _plan_note ran "$_pl_name"
            else
                # A phase whose checks failed has said so; anything else
                # that stopped a step is a failure of its own.
                [ "$(assert_failed_count)" -gt "$_failed" ] ||
                    fail "plan $_plan_name: step '$_pl_name' ($_pl_op) was carried out"
                _plan_note failed "$_pl_name"
                _plan_rc=1
                if [ -n "$_pl_node" ] && [ -f "$LAB_DIR/$_pl_node.log" ]; then
                    echo "# plan: the last lines of $_pl_node's log:"
                    tail -n 20 "$LAB_DIR/$_pl_node.log"
                fi
            fi
        done 3<"$_plan_dir/$_list.jsonl"
    done
    echo "# plan $_plan_name: $(wc -l <"$_plan_dir/ran" | tr -d ' ') steps ran," \
        "$(wc -l <"$_plan_dir/substituted" | tr -d ' ') substituted, $(wc -l <"$_plan_dir/skipped" | tr -d ' ') skipped," \
        "$(wc -l <"$_plan_dir/failed" | tr -d ' ') failed"
    sed 's/^/#   substituted: /' "$_plan_dir/substituted"
    sed 's/^/#   skipped: /' "$_plan_dir/skipped"
    if [ -n "${LAB_CHECK_LOGS:-}" ]; then
        lab_stop_all
        lab_check_logs
    fi
    rm -rf "$_plan_dir"
    return $_plan_rc
}
