# The text of `commlab-loadgen` (pkgs/loadgen-app.nix): writeShellApplication
# puts a bash shebang, `set -o errexit nounset pipefail`, the variables
# below (runtimeEnv) and PATH (runtimeInputs) in front of it.
#   COMMLAB_LOADGEN      the loadgen binary
#   RABBITMQ_SBIN        the broker's scripts (nixpkgs installs them in sbin/)
#   COMMLAB_BIN          the services
#   KAFKA_HOME           Apache Kafka
#   COMMLAB_KAFKA_KRAFT  the single-node KRaft launcher
#   COMMLAB_LAB          the local-lab driver (nixos-tests/lab)

# `nix run .#loadgen -- matrix`: the fault matrix (nixos-tests/lab matrix).
if [ "$#" -gt 0 ] && [ "$1" != matrix ]; then
  exec "$COMMLAB_LOADGEN" "$@"
fi

PATH="$RABBITMQ_SBIN:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/commlab.XXXXXX")
# The lab stops its own brokers and services (and their port mappers) on
# exit; this removes what is left of its directory. A plain command, not a
# function: a function called only from a trap is "never invoked" to
# ShellCheck 0.11 (SC2329), which would fail the build.
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

RESULTS_DIR=${RESULTS_DIR:-$PWD/commlab-results}
mkdir -p "$RESULTS_DIR"
echo "commlab: lab in $work, results in $RESULTS_DIR"

# The lab's own temporary directories go under $work too.
export TMPDIR="$work" RESULTS_DIR PATH
export COMMLAB_KAFKA=real

# Not exec: the traps above must still run when the lab ends.
sh "$COMMLAB_LAB" "$@"
