# Glue of vm-async-rabbitmq (async-rabbitmq.nix): starts, crashes and
# restarts nodes and runs the scenario phases (nix.*) on the client; the
# phases assert.
start_all()
wait_up(broker, "rabbitmq.service", 5672)
wait_for_services()

client.succeed(nix.baseline)

# The inventory VM crashes and stays down for 60 s while orders keep
# coming: the queue grows; once it is back the backlog drains.
client.succeed(nix.backlog_start)
client.sleep(3)
inventory.crash()
client.sleep(nix.outage_seconds)
inventory.start()
service_up(inventory, "inventory")
client.succeed(nix.backlog_restart_ms)
client.succeed(nix.backlog_finish)

client.succeed(nix.idempotency)
client.succeed(nix.poison)

# RabbitMQ restarted in the middle of a run: nothing lost.
client.succeed(nix.broker_start)
client.sleep(5)
broker.succeed("systemctl restart rabbitmq.service")
wait_up(broker, "rabbitmq.service", 5672)
client.succeed(nix.broker_finish)

# The inventory unit SIGKILLed four times under load (systemd restarts
# it): redelivered messages change nothing twice.
client.succeed(nix.kill_start)
for _ in range(4):
    client.sleep(2)
    inventory.succeed(nix.kill_inventory)
    inventory.wait_until_succeeds("systemctl is-active commlab-inventory.service")
inventory.wait_for_open_port(8081)
client.succeed(nix.kill_finish)

# Crash invariants: each service SIGKILLed under load (systemd restarts it),
# then the invariants from the state dumps alone.
client.succeed(nix.invariants_start)
kill_each(client, [(order, "order"), (inventory, "inventory"), (notification, "notification")])
client.succeed(nix.invariants_finish)

# The inventory node cut off from the broker for 60 s (nftables on the
# inventory node): the queue grows, then drains; every order final once.
client.succeed(nix.partition_start)
client.sleep(3)
inventory.succeed(nix.cut_broker)
client.sleep(nix.partition_seconds)
inventory.succeed(nix.heal)
client.succeed(nix.partition_finish)

# Everything the phases wrote, and the state hashes once more on their
# own ($out/workload-sha256/<phase>.workload.sha256).
client.copy_from_vm(nix.results, "")
for phase in nix.hashed_phases:
    client.copy_from_vm(f"{nix.results}/{phase}.workload.sha256", "workload-sha256")
