# Part C on a three-broker Kafka cluster (KRaft, every node broker and
# controller; replication 3, min.insync.replicas 2): 10,000 events go through
# order-events and inventory-events while one broker VM is crashed and later
# booted again. Nothing may be lost: every event delivered, reserved once and
# counted once (the produce phase of scenarios/streaming-kafka.sh checks it).
{ common }:

let
  inherit (common)
    py
    phaseInBackground
    backgroundDone
    backgroundPassed
    kafkaServiceNodes
    clientNode
    kafkaNode
    ;
  scenario = {
    script = "streaming-kafka";
    out = "kafka-cluster";
  };
  brokers = "kafka1:9092,kafka2:9092,kafka3:9092";
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    ANALYTICS_URL = "http://analytics:8083";
    KAFKA_BROKERS = brokers;
    KAFKA_TRANSACTIONS = "real";
  };
  n = 10000;

  voters = [
    "1@kafka1:9093"
    "2@kafka2:9093"
    "3@kafka3:9093"
  ];
  broker =
    nodeId:
    kafkaNode {
      inherit nodeId voters;
      replicas = 3;
      minIsr = 2;
    };
in
{
  name = "commlab-kafka-cluster";

  nodes = {
    kafka1 = broker 1;
    kafka2 = broker 2;
    kafka3 = broker 3;
    client = clientNode;
  }
  // kafkaServiceNodes brokers;

  testScript = ''
    # The brokers first, then the topics (replication 3), then the services.
    for machine in [kafka1, kafka2, kafka3, client]:
        machine.start()
    for machine in [kafka1, kafka2, kafka3]:
        machine.wait_for_unit("apache-kafka.service")
        machine.wait_for_open_port(9092)
        machine.wait_for_open_port(9093)
    client.wait_for_unit("multi-user.target")
    client.wait_until_succeeds(
        "commlab-kafka topics --brokers ${brokers} --partitions 6 --replication 3", timeout=300
    )
    kafka1.succeed(
        "kafka-topics.sh --bootstrap-server kafka1:9092 --describe --topic order-events"
        + " | grep 'ReplicationFactor: 3'"
    )
    for machine in [inventory, analytics, order]:
        machine.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    analytics.wait_for_unit("commlab-analytics.service")
    analytics.wait_for_open_port(8083)
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)

    # 10,000 events while kafka2 crashes and, 30 s later, boots again.
    client.succeed(${py (phaseInBackground scenario env "produce" [ n 0 n ])})
    client.sleep(2)
    kafka2.crash()
    client.sleep(30)
    kafka2.start()
    kafka2.wait_for_unit("apache-kafka.service")
    kafka2.wait_for_open_port(9092)
    client.wait_until_succeeds(${py (backgroundDone scenario.out "produce")}, timeout=900)
    client.succeed(${py (backgroundPassed scenario.out "produce")})

    client.copy_from_vm("/tmp/results/${scenario.out}", "")
  '';
}
