# `nix run .#loadgen`: with no arguments, boots the local lab on this machine
# (real RabbitMQ and real Kafka in KRaft mode from nixpkgs, in a temporary
# directory; the services as processes), drives all three models, prints the
# tables and writes results to ./commlab-results (or $RESULTS_DIR). With
# arguments, it is the load generator against endpoints that already run:
# `nix run .#loadgen -- rest --url http://host:8080 -n 1000 -c 50`.
{
  lib,
  writeShellApplication,
  commlab,
  commlab-scenarios,
  callPackage,
  rabbitmq-server,
  apacheKafka,
  kcat,
  curl,
  jq,
  gnuplot,
  sqlite,
  iproute2,
  coreutils,
  gawk,
  gnugrep,
  gnused,
  findutils,
  procps,
}:

let
  # amqp-publish and friends (Debian's amqp-tools): rabbitmq-c with its tools.
  amqp-tools = callPackage ./amqp-tools.nix { };
in
writeShellApplication {
  name = "commlab-loadgen";

  runtimeInputs = [
    commlab
    commlab-scenarios
    rabbitmq-server
    amqp-tools
    apacheKafka
    kcat
    curl
    jq
    gnuplot
    sqlite
    iproute2
    coreutils
    gawk
    gnugrep
    gnused
    findutils
    procps
  ];

  text = ''
    if [ "$#" -gt 0 ]; then
      exec ${lib.getExe' commlab "loadgen"} "$@"
    fi

    # nixpkgs installs the broker's scripts in sbin/.
    PATH="${rabbitmq-server}/sbin:$PATH"

    work=$(mktemp -d "''${TMPDIR:-/tmp}/commlab.XXXXXX")
    cleanup() {
      rm -rf "$work"
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    RESULTS_DIR=''${RESULTS_DIR:-$PWD/commlab-results}
    mkdir -p "$RESULTS_DIR"
    echo "commlab: lab in $work, results in $RESULTS_DIR"

    # The lab's own temporary directories go under $work too.
    export TMPDIR="$work" RESULTS_DIR PATH
    export COMMLAB_BIN=${commlab}/bin
    export COMMLAB_KAFKA=real
    export KAFKA_HOME=${apacheKafka}
    export COMMLAB_KAFKA_KRAFT=${commlab-scenarios}/bin/commlab-kafka-kraft

    # Not exec: the traps above must still run when the lab ends.
    sh ${commlab-scenarios}/share/commlab/nixos-tests/lab
  '';

  meta = {
    description = "Boot the commlab lab locally and drive all three models, or run loadgen against given endpoints";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "commlab-loadgen";
  };
}
