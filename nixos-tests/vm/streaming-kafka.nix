# Part C in VMs: one Apache Kafka broker in KRaft mode (nixpkgs' module) on a
# node of its own, order (stream), inventory (kafka) and analytics on theirs,
# a client running the scenario phases. The choreography is the plan
# (plans/streaming-kafka.json), which the local lab runs too; its parameters
# say where the two labs differ and why. Crashes are of the whole node.
{ common, referenceMetrics ? null }:

let
  read = builtins.fromJSON (builtins.readFile ../plans/streaming-kafka.json);
  # The replay must reproduce results/streaming-kafka.metrics.json: the
  # store copy vm/default.nix passes is the VM's value of the parameter.
  plan =
    if referenceMetrics == null then
      read
    else
      read
      // {
        params = read.params // {
          reference_metrics = read.params.reference_metrics // {
            vm = "${referenceMetrics}";
          };
        };
      };
in
{
  name = "commlab-streaming-kafka";

  nodes = common.planNodes plan;

  # Estimate with KVM: ~3 min to boot the five nodes, ~15 min of steps
  # (10,000 events, two lag phases of 30-40 s and their drains, the replay,
  # the re-processing with two node crashes, each wait bounded at 10 min).
  # The driver gives up at about three times the expected run; Hydra-style
  # builders at meta.timeout.
  globalTimeout = 60 * 60;
  meta.timeout = 65 * 60;

  testScript = common.planScript plan;
}
