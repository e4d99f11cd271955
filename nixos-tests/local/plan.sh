#!/bin/sh
# Runs a plan (nixos-tests/plans/TEST.json; format in plans/README.md) in the
# local lab, the same choreography its VM test runs:
#   sh nixos-tests/local/plan.sh nixos-tests/plans/sync-rest.json
# COMMLAB_BIN: the build; RESULTS_DIR: where the plan's reports write results/
# files; OUT_DIR: where phases write (default: in the lab's directory);
# LAB_CHECK_LOGS=1: clean stops and sanitizer-clean logs checked at the end;
# PLAN_PARAM_<name>=VALUE: a parameter's local value for this run.
# Hosts mode (the plan's steps that need it) when root; otherwise those steps
# are skipped, and said so. Exits non-zero when a step fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/local.sh"
. "$LIB/hosts.sh"
. "$LIB/faults.sh"
. "$LIB/plan.sh"
. "$LIB/kafka.sh"
. "$LIB/plan-series.sh"
. "$LIB/plan-kafka.sh"
. "$LIB/plan-rabbitmq.sh"
case "${1:-}" in
-h | --help | "") sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit ;;
esac
failed_before=$(assert_failed_count)
plan_run "$1" || exit 1
[ "$(assert_failed_count)" -eq "$failed_before" ]
