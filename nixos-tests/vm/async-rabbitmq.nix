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
    glue
    phase
    serviceNode
    clientNode
    rabbitmqNode
    netFault
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
  run = phase { script = model; } env;
  # The crash-invariant phases (scenarios/crash.sh), results beside the model's.
  crash = phase {
    script = "crash";
    out = model;
  } env;

  # Phases whose order ranges the local lab's counts file does not hash.
  runUnhashed = phase { script = model; } (removeAttrs env [ "EXPECTED_COUNTS" ]);

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

  # Estimate with KVM: ~3 min to boot the five nodes, ~9 min of phases
  # (baseline, 70 s of backlog with a 60 s outage and its drain, 40 s with a
  # broker restart, 40 s with four kills, and the drains). The driver gives
  # up at about three times that; Hydra-style builders at meta.timeout.
  globalTimeout = 40 * 60;
  meta.timeout = 45 * 60;

  testScript = glue [ ./helpers.py ./services.py ./async-rabbitmq.py ] {
    baseline = run "baseline" [ baselineOrders ];
    backlog_start = run "backlog-start" [
      backlogRate
      (outageSeconds + 10)
      10000
    ];
    outage_seconds = outageSeconds;
    backlog_restart_ms = "echo $(($(date +%s%N) / 1000000)) >${out}/backlog.restart_ms";
    backlog_finish = run "backlog-finish" [ ];
    idempotency = run "idempotency" [ ];
    poison = run "poison" [ ];
    broker_start = run "broker-start" [
      brokerRate
      brokerSeconds
      30000
    ];
    broker_finish = run "broker-finish" [ ];
    kill_start = run "kill-start" [
      killRate
      killSeconds
      40000
    ];
    kill_inventory = "systemctl kill --signal=SIGKILL commlab-inventory.service";
    kill_finish = run "kill-finish" [ ];
    invariants_start = crash "start" [
      "async"
      20
      20
      2000000
    ];
    invariants_finish = crash "finish" [
      "async"
      3
      90
    ];

    partition_start = runUnhashed "partition-start" [
      50
      70
      50000
    ];
    cut_broker = netFault "cut broker";
    partition_seconds = 60;
    heal = netFault "heal";
    partition_finish = runUnhashed "partition-finish" [ ];
    results = out;
    # The phases that write <phase>.workload.sha256.
    hashed_phases = [
      "baseline"
      "backlog"
      "broker"
      "kill"
    ];
  };
}
