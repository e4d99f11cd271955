# Part B on a three-node RabbitMQ cluster (nixpkgs' module on rabbitmq1..3,
# quorum queues with a replica on each node): one broker VM crashes mid-run
# and boots again; then one is cut off from the others (the driver's block)
# and healed. The services are given all three nodes' URLs and reconnect to
# another when theirs goes. The choreography is the plan
# (plans/rabbitmq-cluster.json), which the local lab's hosts mode runs too;
# its phases assert that every accepted order reaches its final state
# exactly once.
{ common }:

let
  plan = builtins.fromJSON (builtins.readFile ../plans/rabbitmq-cluster.json);
in
{
  name = "commlab-rabbitmq-cluster";

  nodes = common.planNodes plan;

  # Estimate with KVM: ~4 min to boot seven nodes and form the cluster,
  # ~4 min of steps (25 s and 35 s of load, a crash and boot, a 20 s
  # partition, the drains). Guest memory: 3 x 1.5 GiB + 3 x 1 GiB + the
  # client's 1 GiB, about 8.5 GiB.
  globalTimeout = 30 * 60;
  meta.timeout = 35 * 60;

  testScript = common.planScript plan;
}
