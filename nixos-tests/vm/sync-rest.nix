# Part A in VMs: inventory, notification and order on nodes of their own, a
# client running scenarios/sync-rest.sh. Delay is netem on the inventory
# node's interface; the kills are crashes of the inventory, order and
# notification VMs.
{ common }:

let
  inherit (common)
    py
    phase
    serviceNode
    clientNode
    waitForServices
    netemAdd
    netemDel
    ;
  model = "sync-rest";
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    NOTIFICATION_URL = "http://notification:8082";
  };
  run = name: args: py (phase { script = model; } env name args);
  configure =
    body:
    py "curl -fsS -X POST -H 'Content-Type: application/json' --data '${body}' http://inventory:8081/configure";

  # Under a netem delay of D on inventory's interface a request on an open
  # connection takes D, on a new one 2 D (the SYN-ACK is delayed too): the
  # order timeout is 5 s here (3 s in the local lab, whose delay is the
  # service's own knob), and the timeout scenario delays inventory by 8 s.
  orderTimeoutMs = 5000;
  netemDelayMs = 2000;
  # VM latencies are looser than loopback's.
  delayOverheadMs = 1000;
  failP99Ms = 1000;
  timeoutSlackMs = 1000;
in
{
  name = "commlab-sync-rest";

  nodes = {
    inventory = serviceNode "inventory" { mode = "rest"; };
    notification = serviceNode "notification" { mode = "rest"; };
    order = serviceNode "order" {
      mode = "sync";
      inventory-url = "http://inventory:8081";
      notification-url = "http://notification:8082";
      inventory-timeout-ms = orderTimeoutMs;
    };
    client = clientNode;
  };

  testScript = ''
    start_all()
    ${waitForServices}

    client.succeed(${run "baseline" [ ]})
    client.succeed(${run "bad-input" [ ]})
    client.succeed(${run "idempotency" [ ]})
    client.succeed(${run "out-of-stock" [ ]})

    # 2 s of netem delay on everything the inventory node sends.
    inventory.succeed(${py (netemAdd netemDelayMs)})
    client.succeed(${run "delay" [ netemDelayMs delayOverheadMs ]})
    inventory.succeed(${py netemDel})

    client.succeed(${configure ''{"delay_ms":0,"mode":"error"}''})
    client.succeed(${run "fail500" [ failP99Ms ]})
    client.succeed(${configure ''{"delay_ms":8000,"mode":"none"}''})
    client.succeed(${run "timeout" [ orderTimeoutMs timeoutSlackMs ]})
    client.succeed(${configure ''{"delay_ms":0,"mode":"none"}''})
    client.succeed(${run "released" [ 30 "timeout" ]})

    # Inventory crashes under an open-loop load (5 orders/s for 40 s) and
    # boots again: 502/504 meanwhile, 201 again after.
    client.succeed(${run "kill-start" [ 5 40 ]})
    client.sleep(3)
    inventory.crash()
    client.sleep(5)
    inventory.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.succeed(${run "kill-finish" [ ]})
    client.succeed(${run "released" [ 60 ]})

    # Releases outlive an order-node crash: inventory down, orders fail, the
    # order node crashes with their releases unsent, both boot again.
    inventory.crash()
    client.succeed(${run "release-crash-start" [ ]})
    order.crash()
    order.start()
    inventory.start()
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.succeed(${run "release-crash-finish" [ 60 ]})

    # Orders in flight when the order node crashes end final after it boots:
    # inventory answers 1 s late (the crash command takes its own time, so
    # the window is wider than the local lab's 300 ms), 50 orders/s.
    client.succeed(${configure ''{"delay_ms":1000,"mode":"none"}''})
    client.succeed(${run "pending-crash-start" [ 50 8 ]})
    client.sleep(3)
    client.succeed(${run "pending-crash-inflight" [ ]})
    order.crash()
    order.start()
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)
    # Recovery re-runs the chain one order at a time: without the delay.
    client.succeed(${configure ''{"delay_ms":0,"mode":"none"}''})
    client.succeed(${run "pending-crash-finish" [ 90 ]})

    # Notifications outlive a notification-node crash under load.
    client.succeed(${run "notify-kill-start" [ 50 8 ]})
    client.sleep(2)
    notification.crash()
    client.sleep(2)
    notification.start()
    notification.wait_for_unit("commlab-notification.service")
    notification.wait_for_open_port(8082)
    client.succeed(${run "notify-kill-finish" [ 60 ]})

    client.copy_from_vm("/tmp/results/${model}", "")
  '';
}
