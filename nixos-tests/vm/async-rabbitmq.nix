# Part B in VMs: RabbitMQ (nixpkgs' module) on a node of its own, order
# (async), inventory and notification (amqp) on theirs, a client running
# scenarios/async-rabbitmq.sh. The inventory VM is crashed and kept down for
# 60 s while orders keep coming; RabbitMQ is restarted in the middle of a run.
{ common }:

let
  inherit (common)
    py
    phase
    phaseInBackground
    backgroundDone
    backgroundPassed
    serviceNode
    clientNode
    rabbitmqNode
    ;
  model = "async-rabbitmq";
  amqpUrl = "amqp://guest:guest@broker:5672/";
  env = {
    ORDER_URL = "http://order:8080";
    INVENTORY_URL = "http://inventory:8081";
    NOTIFICATION_URL = "http://notification:8082";
    AMQP_URL = amqpUrl;
  };
  run = name: args: py (phase { script = model; } env name args);
  runInBackground = name: args: py (phaseInBackground { script = model; } env name args);

  # Orders per second and seconds of the publishing runs.
  rate = 20;
  backlogSeconds = 90;
  restartSeconds = 40;
  # How long the inventory node stays down.
  downSeconds = 60;
in
{
  name = "commlab-async-rabbitmq";

  nodes = {
    broker = rabbitmqNode;
    inventory = serviceNode "inventory" {
      mode = "amqp";
      amqp-url = amqpUrl;
    };
    notification = serviceNode "notification" {
      mode = "amqp";
      amqp-url = amqpUrl;
    };
    order = serviceNode "order" {
      mode = "async";
      amqp-url = amqpUrl;
    };
    client = clientNode;
  };

  testScript = ''
    start_all()
    broker.wait_for_unit("rabbitmq.service")
    broker.wait_for_open_port(5672)
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    notification.wait_for_unit("commlab-notification.service")
    notification.wait_for_open_port(8082)
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)
    client.wait_for_unit("multi-user.target")
    client.wait_until_succeeds("curl -fsS http://order:8080/healthz")

    client.succeed(${run "baseline" [ ]})

    # The inventory node goes down for 60 s while orders keep coming: the
    # queue grows; once it is back the backlog drains, each order once.
    client.succeed(${runInBackground "backlog" [ rate backlogSeconds ]})
    client.sleep(10)
    inventory.crash()
    client.sleep(${toString downSeconds})
    client.succeed(${run "backlog-depth" [ ]})
    inventory.start()
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    client.wait_until_succeeds(${py (backgroundDone model "backlog")}, timeout=600)
    client.succeed(${py (backgroundPassed model "backlog")})
    client.succeed(${run "backlog-drained" [ ]})

    client.succeed(${run "redelivery" [ ]})
    client.succeed(${run "poison" [ ]})

    # RabbitMQ restarted in the middle of a run: nothing lost.
    client.succeed(${runInBackground "broker-restart" [ rate restartSeconds ]})
    client.sleep(10)
    broker.succeed("systemctl restart rabbitmq.service")
    broker.wait_for_unit("rabbitmq.service")
    broker.wait_for_open_port(5672)
    client.wait_until_succeeds(${py (backgroundDone model "broker-restart")}, timeout=600)
    client.succeed(${py (backgroundPassed model "broker-restart")})

    client.copy_from_vm("/tmp/results/${model}", "")
  '';
}
