# Part A in VMs: inventory, notification and order on nodes of their own, a
# client running the scenario phases. The choreography is the plan
# (plans/sync-rest.json), which the local lab runs too; its parameters say
# where the two labs differ and why. Delay here is netem on the inventory
# node's interface; crashes are of the whole node.
{ common }:

let
  plan = builtins.fromJSON (builtins.readFile ../plans/sync-rest.json);
in
{
  name = "commlab-sync-rest";

  nodes = common.planNodes plan;

  # Estimate with KVM: ~3 min to boot the four nodes, ~7 min of steps (the
  # 40 s kill load, three node crashes and boots, the 8 s timeouts, the
  # cascade's ~1 min). The driver gives up at about three times that;
  # Hydra-style builders at the derivation's meta.timeout, a little later.
  globalTimeout = 25 * 60;
  meta.timeout = 30 * 60;

  testScript = common.planScript plan;
}
