# Glue of vm-rabbitmq-cluster (rabbitmq-cluster.nix): crashes, blocks and
# restarts broker nodes and runs the scenario phases (nix.*) on the client;
# the phases assert.
start_all()
for broker in [rabbitmq1, rabbitmq2, rabbitmq3]:
    wait_up(broker, "rabbitmq.service", 5672)
rabbitmq1.wait_until_succeeds(nix.running_nodes, timeout=300)
wait_for_services()

# A broker VM crashes mid-run and boots again (its data is on its disk).
client.succeed(nix.kill_start)
client.sleep(5)
rabbitmq2.crash()
client.sleep(10)
rabbitmq2.start()
rabbitmq2.wait_for_unit("rabbitmq.service")
rabbitmq1.wait_until_succeeds(nix.running_nodes, timeout=300)
client.succeed(nix.kill_finish)

# A broker cut off from the other nodes for 20 s, then healed: the
# minority side pauses, its clients move to the others.
client.succeed(nix.partition_start)
client.sleep(5)
rabbitmq3.block()
client.sleep(20)
rabbitmq3.unblock()
rabbitmq1.wait_until_succeeds(nix.running_nodes, timeout=300)
client.succeed(nix.partition_finish)

client.copy_from_vm(nix.results, "")
