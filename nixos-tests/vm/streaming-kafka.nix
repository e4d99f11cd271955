# Part C in VMs: one Apache Kafka broker in KRaft mode (nixpkgs' module) on a
# node of its own, order (stream), inventory (kafka) and analytics on theirs,
# a client running scenarios/streaming-kafka.sh: 10,000 events, a throttled
# and a paused consumer (lag, then drain), replay equality, and exactly-once
# with the inventory VM crashed twice in the middle of re-processing.
{ common, referenceMetrics ? null }:

let
  inherit (common)
    glue
    phase
    kafkaServiceNodes
    clientNode
    kafkaNode
    kafkaLag
    ;
  model = "streaming-kafka";
  brokers = "kafka:9092";
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    ANALYTICS_URL = "http://analytics:8083";
    KAFKA_BROKERS = brokers;
    KAFKA_TRANSACTIONS = "real";
  };
  run = phase { script = model; } env;
  # The crash-invariant phases (scenarios/crash.sh), results beside the model's.
  crash = phase {
    script = "crash";
    out = model;
  } env;

  # The same numbers as the local lab (local/streaming-kafka.sh).
  n = 10000;
  lagThreshold = 1000;
  inventoryGroup = "inventory-consumer-group:order-events";
  analyticsGroup = "analytics-consumer-group:order-events,inventory-events";

  out = "/tmp/results/${model}";
  inventoryLag = kafkaLag brokers inventoryGroup;
  # Succeeds once the inventory group's lag is below PERCENT of the backlog
  # it had right after the reset.
  lagBelow =
    percent: "test \"$(${inventoryLag})\" -lt $(( $(cat ${out}/vm-crash-backlog) * ${toString percent} / 100 ))";
  inventoryDb = "/var/lib/commlab-inventory/inventory.db";
in
{
  name = "commlab-streaming-kafka";

  nodes = {
    kafka = kafkaNode {
      nodeId = 1;
      voters = [ "1@kafka:9093" ];
      replicas = 1;
      minIsr = 1;
    };
    client = clientNode;
  }
  // kafkaServiceNodes brokers;

  # Estimate with KVM: ~3 min to boot the five nodes, ~15 min of phases
  # (10,000 events, two lag phases of 30-40 s and their drains, the replay,
  # the re-processing with two crashes, each wait bounded at 10 min). The
  # driver gives up at about three times the expected run; Hydra-style
  # builders at meta.timeout.
  globalTimeout = 60 * 60;
  meta.timeout = 65 * 60;

  testScript = glue [ ./helpers.py ./streaming-kafka.py ] {
    topics = "commlab-kafka topics --brokers ${brokers} --partitions 6 --replication 1";
    produce = run "produce" [
      n
      0
      n
    ];
    order_api = run "order-api" [
      20
      100000
      (n + 20)
    ];
    dup_malformed = run "dup-malformed" [ (n + 70) ];
    kcat_read = run "kcat-read" [ ];
    lag_analytics = run "lag" [
      "name=analytics"
      "group=${analyticsGroup}"
      "url=http://analytics:8083"
      ''control={"throttle_ms":1}''
      "events=${toString n}"
      "start=30000"
      "threshold=${toString lagThreshold}"
      "orders=${toString (2 * n + 70)}"
    ];
    lag_inventory = run "lag" [
      "name=inventory"
      "group=${inventoryGroup}"
      "url=http://inventory:8081"
      ''control={"paused":true}''
      "events=${toString n}"
      "start=40000"
      "threshold=${toString lagThreshold}"
      "orders=${toString (3 * n + 70)}"
    ];
    replay_before = run "replay-before" [ ];
    replay_reset = run "replay-reset" [ ];
    replay_after = run "replay-after" (
      if referenceMetrics == null then [ ] else [ "${referenceMetrics}" ]
    );
    crash_reference = run "crash-reference" [ ];
    crash_reset = run "crash-reset" [ ];
    remove_inventory_db = "rm -f ${inventoryDb} ${inventoryDb}-wal ${inventoryDb}-shm";
    save_backlog = "${inventoryLag} >${out}/vm-crash-backlog";
    lag_below_67 = lagBelow 67;
    lag_below_33 = lagBelow 33;
    crash_finish = run "crash-finish" [ ];
    poison = run "poison" [ 500000 ];
    conflicts = run "conflicts" [ ];
    invariants_start = crash "start" [
      "stream"
      20
      20
      2000000
    ];
    invariants_finish = crash "finish" [
      "stream"
      3
      90
    ];
    results = out;
  };
}
