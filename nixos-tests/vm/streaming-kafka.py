# Glue of vm-streaming-kafka (streaming-kafka.nix): starts, stops and
# crashes nodes and runs the scenario phases (nix.*) on the client; the
# phases assert.

# The broker first, then the topics, then the services.
kafka.start()
client.start()
wait_up(kafka, "apache-kafka.service", 9092)
client.wait_for_unit("multi-user.target")
client.wait_until_succeeds(nix.topics, timeout=300)
inventory.start()
analytics.start()
order.start()
service_up(inventory, "inventory")
service_up(analytics, "analytics")
service_up(order, "order")

client.succeed(nix.produce)
client.succeed(nix.order_api)
client.succeed(nix.dup_malformed)
client.succeed(nix.kcat_read)
client.succeed(nix.lag_analytics)
client.succeed(nix.lag_inventory)

# Replay: analytics stopped, its offsets reset to earliest, started again
# with --rebuild (COMMLAB_REBUILD for this one start): the same metrics.
client.succeed(nix.replay_before)
analytics.succeed("systemctl stop commlab-analytics.service")
client.succeed(nix.replay_reset)
analytics.succeed("systemctl set-environment COMMLAB_REBUILD=1")
analytics.succeed("systemctl start commlab-analytics.service")
analytics.succeed("systemctl unset-environment COMMLAB_REBUILD")
analytics.wait_for_open_port(8083)
client.succeed(nix.replay_after)

# Exactly-once: a fresh inventory re-processes the topic from earliest and
# its VM is crashed twice on the way; the final state must equal the
# clean run's.
client.succeed(nix.crash_reference)
inventory.succeed("systemctl stop commlab-inventory.service")
client.succeed(nix.crash_reset)
inventory.succeed(nix.remove_inventory_db)
client.succeed(nix.save_backlog)
inventory.succeed("systemctl start commlab-inventory.service")
inventory.wait_for_open_port(8081)
client.wait_until_succeeds(nix.lag_below_67, timeout=600)
reboot(inventory, "inventory")
client.wait_until_succeeds(nix.lag_below_33, timeout=600)
reboot(inventory, "inventory")
client.succeed(nix.crash_finish)

# Poison messages between valid events: nothing stalls.
client.succeed(nix.poison)
client.succeed(nix.conflicts)

# Crash invariants: each service SIGKILLed under load (systemd restarts it),
# then the invariants from the state dumps alone.
client.succeed(nix.invariants_start)
kill_each(client, [(order, "order"), (inventory, "inventory"), (analytics, "analytics")])
client.succeed(nix.invariants_finish)

client.copy_from_vm(nix.results, "")
