# Part A in VMs: inventory, notification and order on nodes of their own, a
# client running scenarios/sync-rest.sh. Delay is netem on the inventory
# node's interface; the kills are crashes of the inventory, order and
# notification VMs.
{ common }:

let
  inherit (common)
    glue
    phase
    serviceNode
    clientNode
    netemAdd
    netemDel
    netFault
    ;
  model = "sync-rest";
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    NOTIFICATION_URL = "http://notification:8082";
  };
  run = phase { script = model; } env;
  # The cascade (scenarios/cascade.sh), results beside the model's: a VM
  # client drives 50 orders/s (rate x the 5 s timeout = 250 in flight),
  # inventory hangs for 10 s, then 8 s of recovery; latencies are looser.
  cascade = phase {
    script = "cascade";
    out = model;
  } (env // {
    RATE = 50;
    HANG_S = 10;
    RECOVER_S = 8;
    TIMEOUT_SLACK_MS = 1000;
    FAST_P99_MS = 1000;
    HEALTHZ_SLACK_MS = 100;
  });
  # The order service's bulkhead and breaker are its defaults (64 orders;
  # open after 5 failures in a row, 2 s cool-down); the cascade without them
  # is one start with both switched off by COMMLAB_* variables, which the
  # unit's command line does not set.
  cascadeLimit = 64;
  cascadeCooldownMs = 2000;
  restartOrder = "systemctl restart commlab-order.service";
  # The crash-invariant phases (scenarios/crash.sh), results beside the model's.
  crash = phase {
    script = "crash";
    out = model;
  } env;
  configure =
    body:
    "curl -fsS -X POST -H 'Content-Type: application/json' --data '${body}' http://inventory:8081/configure";

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
  # The order service's default: failures in a row that open its breaker.
  breakerFailures = 5;
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
      breaker-failures = breakerFailures;
      breaker-cooldown-ms = 4000;
    };
    client = clientNode;
  };

  # Estimate with KVM: ~3 min to boot the four nodes, ~6 min of phases
  # (the 40 s kill load, two crashes and boots, the 8 s timeouts, the
  # cascade's ~1 min). The
  # driver gives up at about three times that; Hydra-style builders at
  # the derivation's meta.timeout, a little later.
  globalTimeout = 25 * 60;
  meta.timeout = 30 * 60;

  testScript = glue [ ./helpers.py ./services.py ./sync-rest.py ] {
    baseline = run "baseline" [ ];
    bad_input = run "bad-input" [ ];
    idempotency = run "idempotency" [ ];
    out_of_stock = run "out-of-stock" [ ];
    netem_add = netemAdd netemDelayMs;
    delay = run "delay" [
      netemDelayMs
      delayOverheadMs
    ];
    netem_del = netemDel;
    configure_error = configure ''{"delay_ms":0,"mode":"error"}'';
    fail500 = run "fail500" [
      failP99Ms
      breakerFailures
    ];
    breaker_closes = run "breaker-closes" [ 15 ];
    configure_slow = configure ''{"delay_ms":8000,"mode":"none"}'';
    timeout = run "timeout" [
      orderTimeoutMs
      timeoutSlackMs
    ];
    configure_none = configure ''{"delay_ms":0,"mode":"none"}'';
    released_after_timeout = run "released" [
      30
      "timeout"
    ];
    kill_start = run "kill-start" [
      5
      40
    ];
    kill_finish = run "kill-finish" [ ];
    released = run "released" [ 60 ];
    release_crash_start = run "release-crash-start" [ ];
    release_crash_finish = run "release-crash-finish" [ 60 ];
    configure_late = configure ''{"delay_ms":1000,"mode":"none"}'';
    pending_crash_start = run "pending-crash-start" [
      50
      8
    ];
    pending_crash_inflight = run "pending-crash-inflight" [ ];
    pending_crash_finish = run "pending-crash-finish" [ 90 ];
    notify_kill_start = run "notify-kill-start" [
      50
      8
    ];
    notify_kill_finish = run "notify-kill-finish" [ 60 ];
    invariants_start = crash "start" [
      "sync"
      20
      20
      2000000
    ];
    invariants_finish = crash "finish" [
      "sync"
      3
      90
    ];

    partition_start = run "partition-start" [
      10
      30
    ];
    cut_inventory = netFault "cut inventory";
    heal = netFault "heal";
    partition_finish = run "partition-finish" [ 60 ];
    cascade_baseline = cascade "baseline" [ 4 ];
    order_unprotected =
      "systemctl set-environment COMMLAB_INVENTORY_MAX_INFLIGHT=0 COMMLAB_BREAKER_FAILURES=0 && ";
    cascade_unprotected = cascade "unprotected" [ orderTimeoutMs ];
    order_protected =
      "systemctl unset-environment COMMLAB_INVENTORY_MAX_INFLIGHT COMMLAB_BREAKER_FAILURES && ";
    cascade_protected = cascade "protected" [
      orderTimeoutMs
      cascadeLimit
      cascadeCooldownMs
      breakerFailures
    ];
    cascade_breaker_500 = cascade "breaker-500" [
      breakerFailures
      cascadeCooldownMs
    ];
    results = "/tmp/results/${model}";
  };
}
