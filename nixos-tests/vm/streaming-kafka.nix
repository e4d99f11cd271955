# Part C in VMs: one Apache Kafka broker in KRaft mode (nixpkgs' module) on a
# node of its own, order (stream), inventory (kafka) and analytics on theirs,
# a client running scenarios/streaming-kafka.sh: 10,000 events, a throttled
# and a paused consumer (lag, then drain), replay equality, and exactly-once
# with the inventory VM crashed twice in the middle of re-processing.
{ common, referenceMetrics ? null }:

let
  inherit (common)
    py
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
  run = name: args: py (phase { script = model; } env name args);

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
    percent: py "test \"$(${inventoryLag})\" -lt $(( $(cat ${out}/vm-crash-backlog) * ${toString percent} / 100 ))";
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

  testScript = ''
    # The broker first, then the topics, then the services.
    kafka.start()
    client.start()
    kafka.wait_for_unit("apache-kafka.service")
    kafka.wait_for_open_port(9092)
    client.wait_for_unit("multi-user.target")
    client.wait_until_succeeds(
        "commlab-kafka topics --brokers ${brokers} --partitions 6 --replication 1", timeout=300
    )
    inventory.start()
    analytics.start()
    order.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    analytics.wait_for_unit("commlab-analytics.service")
    analytics.wait_for_open_port(8083)
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)

    client.succeed(${run "produce" [ n 0 n ]})
    client.succeed(${run "order-api" [ 20 100000 (n + 20) ]})
    client.succeed(${run "dup-malformed" [ (n + 70) ]})
    client.succeed(${run "kcat-read" [ ]})
    client.succeed(${
      run "lag" [
        "analytics"
        analyticsGroup
        "http://analytics:8083"
        ''{"throttle_ms":1}''
        n
        30000
        lagThreshold
        (2 * n + 70)
      ]
    })
    client.succeed(${
      run "lag" [
        "inventory"
        inventoryGroup
        "http://inventory:8081"
        ''{"paused":true}''
        n
        40000
        lagThreshold
        (3 * n + 70)
      ]
    })

    # Replay: analytics stopped, its offsets reset to earliest, started again
    # with --rebuild (COMMLAB_REBUILD for this one start): the same metrics.
    client.succeed(${run "replay-before" [ ]})
    analytics.succeed("systemctl stop commlab-analytics.service")
    client.succeed(${run "replay-reset" [ ]})
    analytics.succeed("systemctl set-environment COMMLAB_REBUILD=1")
    analytics.succeed("systemctl start commlab-analytics.service")
    analytics.succeed("systemctl unset-environment COMMLAB_REBUILD")
    analytics.wait_for_open_port(8083)
    client.succeed(${
      run "replay-after" (if referenceMetrics == null then [ ] else [ "${referenceMetrics}" ])
    })

    # Exactly-once: a fresh inventory re-processes the topic from earliest and
    # its VM is crashed twice on the way; the final state must equal the
    # clean run's.
    client.succeed(${run "crash-reference" [ ]})
    inventory.succeed("systemctl stop commlab-inventory.service")
    client.succeed(${run "crash-reset" [ ]})
    inventory.succeed("rm -f ${inventoryDb} ${inventoryDb}-wal ${inventoryDb}-shm")
    client.succeed(${py "${inventoryLag} >${out}/vm-crash-backlog"})
    inventory.succeed("systemctl start commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.wait_until_succeeds(${lagBelow 67}, timeout=600)
    inventory.crash()
    inventory.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.wait_until_succeeds(${lagBelow 33}, timeout=600)
    inventory.crash()
    inventory.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.succeed(${run "crash-finish" [ ]})

    # Poison messages between valid events: nothing stalls.
    client.succeed(${run "poison" [ 500000 ]})
    client.succeed(${run "conflicts" [ ]})

    client.copy_from_vm("${out}", "")
  '';
}
