# Part B in VMs: RabbitMQ (nixpkgs' module) on a node of its own, order
# (async), inventory and notification (amqp) on theirs, a client running the
# scenario phases. The choreography is the plan (plans/async-rabbitmq.json),
# which the local lab runs too; its parameters say where the two labs differ
# and why. The inventory VM crashes and stays down for 60 s while orders keep
# coming; RabbitMQ stops and starts in the middle of a run; the inventory
# unit is SIGKILLed again and again; the inventory node is cut off from the
# broker for 60 s. There is no reference stack here: the phases that hash
# the workload state compare it with results/async-rabbitmq.counts.txt (a
# file value of the plan), which the local lab's run wrote.
{ common }:

let
  plan = builtins.fromJSON (builtins.readFile ../plans/async-rabbitmq.json);
in
{
  name = "commlab-async-rabbitmq";

  nodes = common.planNodes plan;

  # Estimate with KVM: ~3 min to boot the five nodes, ~10 min of steps
  # (baseline, 70 s of backlog with a 60 s outage and its drain, 40 s with a
  # broker stop and start, 40 s with four kills, 70 s with a 60 s cut, the
  # crash invariants, and the drains). The driver gives up at about three
  # times that; Hydra-style builders at meta.timeout.
  globalTimeout = 40 * 60;
  meta.timeout = 45 * 60;

  testScript = common.planScript plan;
}
