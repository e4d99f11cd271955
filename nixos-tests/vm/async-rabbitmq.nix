# Part B in VMs: RabbitMQ (nixpkgs' module) on a node of its own, order
# (async), inventory and notification (amqp) on theirs, a client running
# scenarios/async-rabbitmq.sh. The inventory VM is crashed and kept down for
# 60 s while orders keep coming; RabbitMQ is restarted in the middle of a
# run; the inventory unit is SIGKILLed again and again (redeliveries).
#
# There is no reference stack here: each phase that hashes the workload state
# writes <phase>.workload.sha256 (copied to $out with the rest), and when
# REFERENCECOUNTS is given (results/async-rabbitmq.counts.txt of a local-lab
# run) the phase itself compares the hash with that file's line for it.
{
  common,
  referenceCounts ? null,
}:

let
  inherit (common)
    py
    phase
    serviceNode
    clientNode
    waitForServices
    rabbitmqNode
    ;
  model = "async-rabbitmq";
  out = "/tmp/results/${model}";
  amqpUrl = "amqp://guest:guest@broker:5672";
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    NOTIFICATION_URL = "http://notification:8082";
    AMQP_URL = amqpUrl;
  }
  // (if referenceCounts == null then { } else { EXPECTED_COUNTS = "${referenceCounts}"; });
  run = name: args: py (phase { script = model; } env name args);

  # The local lab's order ranges (local/async-rabbitmq.sh), so that the state
  # hashes can equal its: every phase must send the same orders, i.e. the same
  # start index and the same count (rate x seconds). Where the VM runs
  # slower, the rate is halved and the duration doubled. The backlog's
  # duration is tied to the 60 s outage, so it keeps the local rate.
  baselineOrders = 500; # local: 500
  outageSeconds = 60; # local: 60
  backlogRate = 100; # local: 100/s for 70 s = 7000 orders from 10000
  brokerRate = 50;
  brokerSeconds = 40; # local: 100/s for 20 s = 2000 orders from 30000
  killRate = 100;
  killSeconds = 40; # local: 200/s for 20 s = 4000 orders from 40000

  # The phases that write <phase>.workload.sha256.
  hashedPhases = [
    "baseline"
    "backlog"
    "broker"
    "kill"
  ];
  copyHash = p: "client.copy_from_vm(${py "${out}/${p}.workload.sha256"}, \"workload-sha256\")\n";

  nowMs = "echo $(($(date +%s%N) / 1000000))";
  killInventory = py "systemctl kill --signal=SIGKILL commlab-inventory.service";
in
{
  name = "commlab-async-rabbitmq";

  nodes = {
    broker = rabbitmqNode;
    inventory = serviceNode "inventory" {
      mode = "amqp";
      amqp-url = amqpUrl;
    };
    notification = serviceNode "notification" {
      mode = "amqp";
      amqp-url = amqpUrl;
    };
    order = serviceNode "order" {
      mode = "async";
      amqp-url = amqpUrl;
    };
    client = clientNode;
  };

  testScript = ''
    start_all()
    broker.wait_for_unit("rabbitmq.service")
    broker.wait_for_open_port(5672)
    ${waitForServices}

    client.succeed(${run "baseline" [ baselineOrders ]})

    # The inventory VM crashes and stays down for 60 s while orders keep
    # coming: the queue grows; once it is back the backlog drains.
    client.succeed(${run "backlog-start" [ backlogRate (outageSeconds + 10) 10000 ]})
    client.sleep(3)
    inventory.crash()
    client.sleep(${toString outageSeconds})
    inventory.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.succeed(${py "${nowMs} >${out}/backlog.restart_ms"})
    client.succeed(${run "backlog-finish" [ ]})

    client.succeed(${run "idempotency" [ ]})
    client.succeed(${run "poison" [ ]})

    # RabbitMQ restarted in the middle of a run: nothing lost.
    client.succeed(${run "broker-start" [ brokerRate brokerSeconds 30000 ]})
    client.sleep(5)
    broker.succeed("systemctl restart rabbitmq.service")
    broker.wait_for_unit("rabbitmq.service")
    broker.wait_for_open_port(5672)
    client.succeed(${run "broker-finish" [ ]})

    # The inventory unit SIGKILLed four times under load (systemd restarts
    # it): redelivered messages change nothing twice.
    client.succeed(${run "kill-start" [ killRate killSeconds 40000 ]})
    for _ in range(4):
        client.sleep(2)
        inventory.succeed(${killInventory})
        inventory.wait_until_succeeds("systemctl is-active commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.succeed(${run "kill-finish" [ ]})

    # Everything the phases wrote, and the state hashes once more on their
    # own ($out/workload-sha256/<phase>.workload.sha256).
    client.copy_from_vm("${out}", "")
    ${builtins.concatStringsSep "" (map copyHash hashedPhases)}'';
}
