# HTTP helpers for scenarios (curl, jq). Endpoints come from the environment
# so the same scenarios drive local processes and VM nodes.

# http_code METHOD URL [BODY [CONTENT_TYPE]]: prints the status code; the
# answer body goes to $HTTP_BODY_FILE.
: "${HTTP_BODY_FILE:=$(mktemp)}"
http_code() {
    _m=$1 _u=$2
    if [ $# -ge 3 ]; then
        printf '%s' "$3" | curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -X "$_m" \
            -H "Content-Type: ${4:-application/json}" --data-binary @- --max-time 30 "$_u"
    else
        curl -s -o "$HTTP_BODY_FILE" -w '%{http_code}' -X "$_m" --max-time 30 "$_u"
    fi
}

# http_get URL: the body, or nothing (and status 1) if not 200.
http_get() {
    curl -sf --max-time 30 "$1"
}

# wait_healthy URL [SECONDS]: polls URL/healthz.
_healthy() { curl -sf --max-time 2 "$1/healthz" >/dev/null 2>&1; }
wait_healthy() {
    wait_until "${2:-30}" _healthy "$1" && return 0
    echo "service at $1 did not become healthy in ${2:-30} s" >&2
    return 1
}

# metric URL NAME: the value of commlab_NAME from URL/metrics (0 when absent).
metric() {
    curl -sf --max-time 10 "$1/metrics" |
        awk -v n="commlab_$2" '$1 ~ "^"n"({|$)" { v = $2 } END { print v + 0 }'
}

# state_dump URL...: the concatenated /dump of each service, in argument order.
state_dump() {
    for _u in "$@"; do
        curl -sf --max-time 60 "$_u/dump" || { echo "cannot read $_u/dump" >&2; return 1; }
    done
}

# state_hash URL...: sha256 of state_dump (empty output if a dump failed).
state_hash() {
    _f=$(mktemp)
    if state_dump "$@" >"$_f"; then sha256sum <"$_f" | cut -d' ' -f1; fi
    rm -f "$_f"
}

json_field() { # FILE JQ-PATH
    jq -r "$2" "$1"
}
