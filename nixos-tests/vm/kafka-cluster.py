# Glue of vm-kafka-cluster (kafka-cluster.nix): starts the brokers, then the
# topics and the services, crashes one broker during the produce phase
# (nix.*, on the client, in the background); the phase asserts.

# The brokers first, then the topics (replication 3), then the services.
for machine in [kafka1, kafka2, kafka3, client]:
    machine.start()
for machine in [kafka1, kafka2, kafka3]:
    wait_up(machine, "apache-kafka.service", 9092)
    machine.wait_for_open_port(9093)
client.wait_for_unit("multi-user.target")
client.wait_until_succeeds(nix.topics, timeout=300)
kafka1.succeed(nix.replication_is_3)
for machine in [inventory, analytics, order]:
    machine.start()
service_up(inventory, "inventory")
service_up(analytics, "analytics")
service_up(order, "order")

# 10,000 events while kafka2 crashes and, 30 s later, boots again.
client.succeed(nix.produce_start)
client.sleep(2)
kafka2.crash()
client.sleep(30)
kafka2.start()
wait_up(kafka2, "apache-kafka.service", 9092)
client.wait_until_succeeds(nix.produce_done, timeout=900)
client.succeed(nix.produce_passed)

client.copy_from_vm(nix.results, "")
