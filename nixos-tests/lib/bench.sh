# Helpers of the benchmarks (nixos-tests/benchmarks/*.sh). Source after lab.sh.
#
#   bench_ms                  wall clock, epoch milliseconds
#   bench_rate N MS0 MS1      N per second over MS0..MS1, one decimal
#   bench_sched NAME...       "cpu_ms wait_ms" summed over the threads of the
#                             lab's processes: time on a CPU, and time runnable
#                             but waiting for one (/proc/PID/task/*/schedstat).
#                             Taken before and after a timed run, the second
#                             says how much of it was CPU starvation, which a
#                             sampling profiler (perf record) cannot see.

# Benchmarks measure the broker without the management plugin's statistics
# collection (rabbitmq.sh turns it on for the lab).
RMQ_MANAGEMENT=${RMQ_MANAGEMENT:-0}
export RMQ_MANAGEMENT

bench_ms() { date +%s%3N; }

bench_rate() {
    awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", (b > a ? n * 1000 / (b - a) : 0) }'
}

bench_sched() {
    for _n in "$@"; do cat "/proc/$(lab_pid "$_n")"/task/*/schedstat 2>/dev/null; done |
        awk '{ c += $1; w += $2 } END { printf "%.0f %.0f\n", c / 1e6, w / 1e6 }'
}
