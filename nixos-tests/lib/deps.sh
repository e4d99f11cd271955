# What the local lab and the tests need, and installing it on Debian/Ubuntu.
# deps_ensure build|lab|bench|test: installs missing packages with apt-get when run
# as root; otherwise names exactly what to install and fails.

DEPS_BUILD="build-essential cmake pkg-config libmicrohttpd-dev libcurl4-openssl-dev
libsqlite3-dev libcjson-dev librabbitmq-dev librdkafka-dev"
DEPS_LAB="curl jq rabbitmq-server amqp-tools kcat gnuplot-nox iproute2 nftables sqlite3"
# socat: a dual-stack listener for local/net-fault.sh.
DEPS_TEST="clang libclang-rt-14-dev nix-bin shellcheck pyflakes3 mypy socat"
# The benchmarks count fsyncs with perf.
DEPS_BENCH="linux-perf"

_deps_missing() {
    _missing=
    for _p in "$@"; do
        dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q 'install ok installed' ||
            _missing="$_missing $_p"
    done
    echo "$_missing"
}

deps_ensure() { # build|lab|bench|test
    _want=$DEPS_BUILD
    case $1 in
    lab) _want="$DEPS_BUILD $DEPS_LAB" ;;
    bench) _want="$DEPS_BUILD $DEPS_LAB $DEPS_BENCH" ;;
    test) _want="$DEPS_BUILD $DEPS_LAB $DEPS_TEST" ;;
    esac
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "deps: not a Debian-like system; install the equivalents of:" >&2
        echo "  $_want" | tr '\n' ' ' >&2
        echo >&2
        echo "  (or use Nix: nix develop, then run this again)" >&2
        return 0 # the build itself will say what is missing
    fi
    # shellcheck disable=SC2086
    _missing=$(_deps_missing $_want)
    [ -z "$_missing" ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "deps: missing Debian packages:$_missing" >&2
        echo "deps: install them with: sudo apt-get install -y$_missing" >&2
        return 1
    fi
    echo "deps: installing$_missing"
    export DEBIAN_FRONTEND=noninteractive
    # The RabbitMQ package starts a system broker on install; the lab runs
    # its own on other ports, so keep the package from starting services.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    # shellcheck disable=SC2086
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $_missing >/dev/null; }
    _rc=$?
    rm -f /usr/sbin/policy-rc.d
    [ $_rc -eq 0 ] || echo "deps: apt-get failed; install by hand:$_missing" >&2
    return $_rc
}
