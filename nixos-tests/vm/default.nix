# The VM tests, one derivation each; `nix flake check` builds them. Each
# writes what its scenarios measured (state hashes, counts, metrics) to $out.
{
  pkgs,
  commlab,
  scenarios,
  module,
  # results/streaming-kafka.metrics.json of a local-lab run, when there is
  # one: the VM's replay must then hash the same.
  referenceMetrics ? null,
  # (results/async-rabbitmq.counts.txt, against which vm-async-rabbitmq's
  # phases check their state hashes, is a file value of its plan.)
}:

let
  common = import ./common.nix {
    inherit
      pkgs
      commlab
      scenarios
      module
      ;
  };
  test = file: args: pkgs.testers.runNixOSTest (import file ({ inherit common; } // args));
in
{
  vm-sync-rest = test ./sync-rest.nix { };
  vm-async-rabbitmq = test ./async-rabbitmq.nix { };
  vm-streaming-kafka = test ./streaming-kafka.nix { inherit referenceMetrics; };
  vm-kafka-cluster = test ./kafka-cluster.nix { };
  vm-rabbitmq-cluster = test ./rabbitmq-cluster.nix { };
}
