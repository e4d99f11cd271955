# `nix run .#loadgen`: with no arguments, boots the local lab on this machine
# (real RabbitMQ and real Kafka in KRaft mode from nixpkgs, in a temporary
# directory; the services as processes), drives all three models, prints the
# tables and writes results to ./commlab-results (or $RESULTS_DIR). With
# arguments, it is the load generator against endpoints that already run:
# `nix run .#loadgen -- rest --url http://host:8080 -n 1000 -c 50`.
# `nix run .#loadgen -- matrix` runs the fault matrix (nixos-tests/lab matrix).
# The script is loadgen-app.sh, so that it can be checked as a file.
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
  nftables,
  coreutils,
  diffutils,
  gawk,
  gnugrep,
  gnused,
  findutils,
  procps,
}:

let
  # amqp-publish and friends (Debian's amqp-tools): rabbitmq-c with its tools.
  amqp-tools = callPackage ./amqp-tools.nix { };

  # nixpkgs' rabbitmq-server keeps its Erlang off PATH (its rabbitmq-env
  # prepends it for the broker's own scripts only), yet the node starts an
  # epmd of that Erlang which outlives it: the lab stops it with `epmd -kill`,
  # so the same Erlang goes on the app's PATH.
  erlang = lib.findFirst (
    p: lib.getName p == "erlang"
  ) (throw "loadgen-app: no erlang among rabbitmq-server's buildInputs") rabbitmq-server.buildInputs;
in
writeShellApplication {
  name = "commlab-loadgen";

  runtimeInputs = [
    commlab
    commlab-scenarios
    rabbitmq-server
    erlang
    amqp-tools
    apacheKafka
    kcat
    curl
    jq
    gnuplot
    sqlite
    iproute2
    # nft: as root, the lab's hosts mode (network cuts between nodes: the
    # matrix's inventory-cut row, the plans' partitions); without it those
    # steps are skipped.
    nftables
    coreutils
    # cmp and diff: the streaming scenarios compare replays byte for byte.
    diffutils
    gawk
    gnugrep
    gnused
    findutils
    procps
  ];

  runtimeEnv = {
    COMMLAB_LOADGEN = lib.getExe' commlab "loadgen";
    RABBITMQ_SBIN = "${rabbitmq-server}/sbin";
    COMMLAB_BIN = "${commlab}/bin";
    KAFKA_HOME = "${apacheKafka}";
    COMMLAB_KAFKA_KRAFT = "${commlab-scenarios}/bin/commlab-kafka-kraft";
    COMMLAB_LAB = "${commlab-scenarios}/share/commlab/nixos-tests/lab";
  };

  text = builtins.readFile ./loadgen-app.sh;

  meta = {
    description = "Boot the commlab lab locally and drive all three models, or run loadgen against given endpoints";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "commlab-loadgen";
  };
}
