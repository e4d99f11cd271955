# Glue of vm-sync-rest (sync-rest.nix): starts, crashes and delays nodes and
# runs the scenario phases (nix.*) on the client; the phases assert.


def wait_for_order() -> None:
    """Until the restarted order service serves the client."""
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)
    client.wait_until_succeeds("curl -fsS http://order:8080/healthz")


start_all()
wait_for_services()

client.succeed(nix.baseline)
client.succeed(nix.bad_input)
client.succeed(nix.idempotency)
client.succeed(nix.out_of_stock)

# 2 s of netem delay on everything the inventory node sends.
inventory.succeed(nix.netem_add)
client.succeed(nix.delay)
inventory.succeed(nix.netem_del)

client.succeed(nix.configure_error)
client.succeed(nix.fail500)
client.succeed(nix.configure_none)
client.succeed(nix.breaker_closes)
client.succeed(nix.configure_slow)
client.succeed(nix.timeout)
client.succeed(nix.configure_none)
client.succeed(nix.released_after_timeout)
client.succeed(nix.breaker_closes)

# Inventory crashes under an open-loop load (5 orders/s for 40 s) and
# boots again: 502/504 meanwhile, 201 again after.
client.succeed(nix.kill_start)
client.sleep(3)
inventory.crash()
client.sleep(5)
inventory.start()
service_up(inventory, "inventory")
client.succeed(nix.kill_finish)
client.succeed(nix.released)

# Releases outlive an order-node crash: inventory down, orders fail, the
# order node crashes with their releases unsent, both boot again.
inventory.crash()
client.succeed(nix.release_crash_start)
order.crash()
order.start()
inventory.start()
service_up(order, "order")
service_up(inventory, "inventory")
client.succeed(nix.release_crash_finish)

# Orders in flight when the order node crashes end final after it boots:
# inventory answers 1 s late (the crash command takes its own time, so the
# window is wider than the local lab's 300 ms), 50 orders/s.
client.succeed(nix.configure_late)
client.succeed(nix.pending_crash_start)
client.sleep(3)
client.succeed(nix.pending_crash_inflight)
reboot(order, "order")
# Recovery re-runs the chain one order at a time: without the delay.
client.succeed(nix.configure_none)
client.succeed(nix.pending_crash_finish)

# Notifications outlive a notification-node crash under load.
client.succeed(nix.notify_kill_start)
client.sleep(2)
notification.crash()
client.sleep(2)
notification.start()
service_up(notification, "notification")
client.succeed(nix.notify_kill_finish)

# Crash invariants: each service SIGKILLed under load (systemd restarts it),
# then the invariants from the state dumps alone.
client.succeed(nix.invariants_start)
kill_each(client, [(order, "order"), (inventory, "inventory"), (notification, "notification")])
client.succeed(nix.invariants_finish)

# The order node cut off from inventory for 8 s under load (nftables on the
# order node, as in the local lab's hosts mode): 504s meanwhile, every
# failed order's stock released after the heal, nothing pending.
client.succeed(nix.partition_start)
client.sleep(5)
order.succeed(nix.cut_inventory)
client.sleep(8)
order.succeed(nix.heal)
client.succeed(nix.partition_finish)

# The cascade and its cure (scenarios/cascade.sh): the order service restarted
# without a bulkhead or breaker while inventory hangs, then with both, then
# inventory answering 500. The phases inject the faults and assert.
client.succeed(nix.cascade_baseline)
order.succeed(nix.order_unprotected)
wait_for_order()
client.succeed(nix.cascade_unprotected)
order.succeed(nix.order_protected)
wait_for_order()
client.succeed(nix.cascade_protected)
client.succeed(nix.cascade_breaker_500)

client.copy_from_vm(nix.results, "")
