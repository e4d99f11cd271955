# The start of every local lab runner (nixos-tests/local/, benchmarks/ and
# below), after `here=$(cd "$(dirname "$0")" && pwd)`: the source tree as
# COMMLAB_ROOT and the libraries every runner uses (assert.sh, http.sh,
# lab.sh). LIB is this directory, for the runner's other libraries.
# shellcheck disable=SC2154 # here: the runner's directory, set by the runner
LIB=${here%/nixos-tests/*}/nixos-tests/lib
COMMLAB_ROOT=${COMMLAB_ROOT:-$(cd "$LIB/../.." && pwd)}
. "$LIB/assert.sh"
. "$LIB/http.sh"
. "$LIB/lab.sh"
