# The three models, sync-rest first: each has a local runner
# nixos-tests/local/MODEL.sh, a scenario script and a VM test. Other runners
# in local/ (cross-model suites) and benchmarks/ are not models.
models_list() {
    for _m in sync-rest async-rabbitmq streaming-kafka; do
        [ -f "$1/local/$_m.sh" ] && echo "$_m"
    done
}
