# shellcheck shell=sh disable=SC2154 # the runner's variables: lib/plan.sh
# The local plan runner's generic measuring steps (plans/README.md): until (a
# named condition), record (what: metric), sample / mark / unsample (a time
# series), and {"db": NODE} values. What a metric is, and which metric and
# bounds a condition reads, is the registry lib/plan-metrics.json, which the
# VM interpreter (vm/plan.py) reads too: a metric is a scenario phase that
# prints a line of numbers, so both labs run the same command. Source after
# plan.sh; it adds itself to the runner's hooks. A condition a role checks
# (the registry's role) is the role's _plan_cond_NAME (lib/plan-ROLE.sh).

PLAN_STEP_HOOKS="${PLAN_STEP_HOOKS:-} _plan_series_step"
PLAN_URL_HOOKS="${PLAN_URL_HOOKS:-} _plan_db_urls"

# {"db": NODE}: the database file of every started service node.
_plan_db_urls() {
    for _n in $(_plan_jq -r '.nodes | to_entries[] | select(.value.service) | .key' "$_plan_file"); do
        [ -f "$LAB_DIR/$_n.bin" ] && printf 'db:%s %s\n' "$_n" "$LAB_DIR/$_n.db"
    done
}

# The current step's metric as a command line (_pm_cmd, for eval): the
# registry's phase, the step's fields as its arguments, the plan's env.
_plan_metric_prepare() {
    _pm=$(_plan_val '(if .op == "until" then plan_registry.conditions[.condition].metric else .metric end)')
    _pm_args=$(printf '%s' "$_plan_step" | _plan_jq -r --slurpfile p "$_plan_file" \
        --slurpfile u "$_plan_dir/urls.json" --slurpfile r "$_plan_dir/records.json" --arg m "$_pm" \
        'include "plan"; . as $s | [plan_registry.metrics[$m].args[] | $s[.]
         | plan_value($p[0]; "local"; $u[0]; $r[0]) | tostring] | @sh')
    _pm_env=$(_plan_jq -r --slurpfile p "$_plan_file" --slurpfile u "$_plan_dir/urls.json" -n \
        'include "plan"; $p[0].env // {} | to_entries[]
         | "\(.key)=\(.value | plan_value($p[0]; "local"; $u[0]; {}) | tostring)" | @sh' | tr '\n' ' ')
    _pm_script=$(_plan_jq -r -n --arg m "$_pm" 'include "plan"; plan_registry.metrics[$m].script')
    _pm_phase=$(_plan_jq -r -n --arg m "$_pm" 'include "plan"; plan_registry.metrics[$m].phase')
    mkdir -p "$_plan_out/metrics"
    _pm_cmd="env SEED=\"\${SEED:-1}\" OUT_DIR=\"\$_plan_out/metrics\" $_pm_env sh \"\$COMMLAB_ROOT/nixos-tests/scenarios/$_pm_script.sh\" $_pm_phase $_pm_args"
}

# Whether the first number on stdin is above A (when A is not empty) and
# at most B x S (when B is not empty; S defaults to 1). vm/plan.py uses the
# same program.
_plan_bounds() { # A B S
    awk -v a="$1" -v b="$2" -v s="$3" 'NR == 1 { ok = ($1 ~ /^-?[0-9.]+$/) && (a == "" || $1 + 0 > a + 0) &&
        (b == "" || $1 + 0 <= b * (s == "" ? 1 : s)) } END { exit !ok }'
}

_plan_now_s() { awk -v t="$(date +%s%N)" 'BEGIN { printf "%.2f", t / 1e9 }'; }

# The series' file: OUT_DIR/OUT/SERIES.tsv (OUT: the step's out, else the
# plan's test name); "seconds value..." lines, marks in SERIES.tsv.marks.
_plan_series_file() {
    _sd=$_plan_out/$(_plan_val '.out // $p[0].test')
    mkdir -p "$_sd"
    echo "$_sd/$(_plan_val .series).tsv"
}

# A condition a broker role checks on its own node (the registry's role):
# _plan_cond_NAME (lib/plan-ROLE.sh), the step's needs as its arguments.
# shellcheck disable=SC2120 # "$@": set by eval, the condition's arguments
_plan_role_until() {
    _cond=$(_plan_val .condition)
    eval "set -- $(_plan_val '. as $s | [plan_registry.conditions[$s.condition].needs[] as $f | $s[$f]
        | plan_value($p[0]; "local"; $u[0]; $r[0]) | tostring] | @sh')"
    if ! command -v "_plan_cond_$_cond" >/dev/null 2>&1; then
        echo "plan: step '$_pl_name': condition '$_cond' is not implemented by the local backend" >&2
        return 1
    fi
    _t=$(_plan_val '.timeout // 600')
    wait_until "$_t" "_plan_cond_$_cond" "$@" ||
        { echo "plan: step '$_pl_name': $_cond $* did not hold within $_t s" >&2; return 1; }
    echo "# plan: $_pl_name: $_cond $* holds"
}

_plan_series_step() {
    case $_pl_op in
    until)
        [ -z "$(_plan_val 'plan_registry.conditions[.condition].role // empty')" ] || { _plan_role_until; return; }
        _plan_metric_prepare
        _ua=$(_plan_val '.above // ""') _ub=$(_plan_val '.at_most // ""') _us=$(_plan_val '.share // ""')
        _end=$(($(date +%s) + $(_plan_val '.timeout // 600')))
        while :; do
            _uv=$(eval "$_pm_cmd" 2>/dev/null | head -n 1)
            printf '%s\n' "$_uv" | _plan_bounds "$_ua" "$_ub" "$_us" && break
            if [ "$(date +%s)" -ge "$_end" ]; then
                echo "plan: step '$_pl_name': $(_plan_val .condition) not met in time (last $_pm: ${_uv:-none}; above '${_ua}', at most '${_ub}' x '${_us:-1}')" >&2
                return 1
            fi
            sleep 0.05
        done
        echo "# plan: $_pl_name: $(_plan_val .condition) met ($_pm $_uv)" ;;
    record)
        [ "$(_plan_val .what)" = metric ] || return 2
        _plan_metric_prepare
        _v=$(eval "$_pm_cmd" | head -n 1 | cut -d' ' -f1)
        case $_v in '' | *[!0-9.-]*) echo "plan: step '$_pl_name': metric $_pm gave '$_v'" >&2; return 1 ;; esac
        _plan_record "$(_plan_val .record)" "$_v"
        echo "# plan: $(_plan_val .record) = $_v ($_pm)" ;;
    sample)
        _plan_metric_prepare
        _sf=$(_plan_series_file) _every=$(_plan_val '.every // 0.5')
        : >"$_sf"
        _plan_now_s >"$_sf.t0"
        rm -f "$_sf.marks"
        _spf=$_plan_dir/sampler.$(_plan_key .series)
        echo "$_sf" >"$_plan_dir/series.$(_plan_key .series)"
        # It ends by itself when the run's directory goes (a step failed
        # before its unsample).
        (
            _t0=$(cat "$_sf.t0")
            while [ -d "$_plan_dir" ]; do
                _v=$(eval "$_pm_cmd" 2>/dev/null | head -n 1)
                echo "$(awk -v a="$(_plan_now_s)" -v b="$_t0" 'BEGIN { printf "%.2f", a - b }') ${_v:-0}" >>"$_sf"
                sleep "$_every"
            done
        ) &
        echo $! >"$_spf" ;;
    mark)
        _sf=$(cat "$_plan_dir/series.$(_plan_key .series)")
        echo "$(awk -v a="$(_plan_now_s)" -v b="$(cat "$_sf.t0")" 'BEGIN { printf "%.2f", a - b }') $(_plan_val .what)" \
            >>"$_sf.marks" ;;
    unsample)
        _sp=$_plan_dir/sampler.$(_plan_key .series)
        [ -f "$_sp" ] || { echo "plan: step '$_pl_name': series $(_plan_val .series) is not being sampled" >&2; return 1; }
        kill "$(cat "$_sp")" 2>/dev/null
        wait "$(cat "$_sp")" 2>/dev/null
        rm -f "$_sp" ;;
    *) return 2 ;;
    esac
}
