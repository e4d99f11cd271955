# Part B on a three-node RabbitMQ cluster (nixpkgs' module on rabbitmq1..3,
# quorum queues with a replica on each node): one broker VM crashes mid-run
# and boots again; then one is cut off from the others (the driver's block)
# and healed. The services are given all three nodes' URLs and reconnect to
# another when theirs goes. The phases are those of the local lab's hosts
# mode (local/faults.sh cluster); they assert that every accepted order
# reaches its final state exactly once.
{ common }:

let
  inherit (common)
    glue
    phase
    serviceNode
    clientNode
    rabbitmqClusterNode
    rabbitmqctl
    ;
  model = "async-rabbitmq";
  out = "rabbitmq-cluster";
  amqpUrl = builtins.concatStringsSep "," (
    map (n: "amqp://guest:guest@rabbitmq${toString n}:5672") [
      1
      2
      3
    ]
  );
  # No reference stack and no local-lab hashes for these order ranges: the
  # phases check finality, notification and stock, not a state hash.
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    NOTIFICATION_URL = "http://notification:8082";
    AMQP_URL = amqpUrl;
  };
  run = phase {
    script = model;
    inherit out;
  } env;
  amqpNode =
    name: mode:
    serviceNode name {
      inherit mode;
      amqp-url = amqpUrl;
    };
  runningNodes = "${rabbitmqctl "cluster_status --formatter json"} | jq -e '.running_nodes | length == 3'";
in
{
  name = "commlab-rabbitmq-cluster";

  nodes = {
    rabbitmq1 = rabbitmqClusterNode;
    rabbitmq2 = rabbitmqClusterNode;
    rabbitmq3 = rabbitmqClusterNode;
    inventory = amqpNode "inventory" "amqp";
    notification = amqpNode "notification" "amqp";
    order = amqpNode "order" "async";
    client = clientNode;
  };

  # Estimate with KVM: ~4 min to boot seven nodes and form the cluster,
  # ~4 min of phases (25 s and 35 s of load, a crash and boot, a 20 s
  # partition, the drains). Guest memory: 3 x 1.5 GiB + 3 x 1 GiB + the
  # client's 1 GiB, about 8.5 GiB.
  globalTimeout = 30 * 60;
  meta.timeout = 35 * 60;

  testScript = glue [ ./helpers.py ./services.py ./rabbitmq-cluster.py ] {
    running_nodes = runningNodes;
    kill_start = run "cluster-kill-start" [
      25
      25
      60000
    ];
    kill_finish = run "cluster-kill-finish" [ ];
    partition_start = run "cluster-partition-start" [
      25
      35
      70000
    ];
    partition_finish = run "cluster-partition-finish" [ ];
    results = "/tmp/results/${out}";
  };
}
