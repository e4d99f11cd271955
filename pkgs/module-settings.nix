# The services of the NixOS module (module.nix) and the settings each one
# knows: every name is an option of the service's binary (`--NAME=VALUE`, or
# `--NAME` for a boolean; see `<binary> --help`). nixos-tests/lib/nixlint.sh
# checks that each appears in that --help, and that each integer type is the
# binary's range (a wider one would let through a value that stops the unit).
{ types }:

let
  # The broker settings, declared once as the services declare the options
  # (runtime/service_main.c), with the same help.
  amqp-url = {
    type = types.str;
    description = "The async model's RabbitMQ: its URL, amqp://user:pass@host:port/vhost (a cluster: its nodes' URLs, comma-separated).";
  };
  kafka-brokers = {
    type = types.str;
    description = "The stream model's Kafka: its bootstrap servers, host:port,...";
  };
  throttle-ms = {
    type = types.ints.between 0 60000;
    description = "Stream consumer: pause this long per event (makes consumer lag visible; also POST /configure).";
  };
  paused = {
    type = types.bool;
    description = "Stream consumer: start with consumption paused (resume with POST /configure {\"paused\":false}).";
  };
in
{
  # Every service has these too.
  common = {
    quiet = {
      type = types.bool;
      default = false;
      description = "Log warnings and errors only.";
    };
    http-max-per-client = {
      type = types.ints.between 1 1000000;
      description = "Open HTTP connections per client address at most (a hanging service keeps every one it was sent).";
    };
    log-events = {
      type = types.bool;
      default = false;
      description = "One info line per event consumed (applied, duplicate, conflict, dead letter) with event_id and order_id; written even with quiet.";
    };
  };

  services.order = {
    binary = "commlab-order";
    port = 8080;
    description = "order service (POST /order: sync REST chain, async via RabbitMQ or stream via Kafka)";
    settings = {
      mode = {
        type = types.enum [
          "sync"
          "async"
          "stream"
        ];
        description = "sync (REST chain), async (RabbitMQ) or stream (Kafka).";
      };
      inventory-url = {
        type = types.str;
        description = "sync: inventory service base URL, e.g. http://inventory:8081.";
      };
      notification-url = {
        type = types.str;
        description = "sync: notification service base URL.";
      };
      inventory-timeout-ms = {
        type = types.ints.between 1 600000;
        description = "sync: answer 504 when inventory takes longer than this.";
      };
      notification-timeout-ms = {
        type = types.ints.between 1 600000;
        description = "sync: give up on notification after this long.";
      };
      inventory-max-inflight = {
        type = types.ints.between 0 1000000;
        description = "sync: orders waiting on inventory at most; past it 503 with Retry-After at once (0: no bound).";
      };
      breaker-failures = {
        type = types.ints.between 0 1000000;
        description = "sync: inventory failures or timeouts in a row that open its circuit breaker (0: no breaker).";
      };
      breaker-failure-rate = {
        type = types.ints.between 0 100;
        description = "sync: also open the breaker when over this percentage of calls failed in the window.";
      };
      breaker-window-s = {
        type = types.ints.between 1 60;
        description = "sync: the breaker's failure-rate window in seconds.";
      };
      breaker-min-calls = {
        type = types.ints.between 1 1000000;
        description = "sync: calls in the window before the failure rate counts.";
      };
      breaker-cooldown-ms = {
        type = types.ints.between 1 3600000;
        description = "sync: an open breaker refuses orders this long, then lets one probe call through.";
      };
      inherit amqp-url;
      inherit kafka-brokers;
    };
  };

  services.inventory = {
    binary = "commlab-inventory";
    port = 8081;
    description = "inventory service (reservations over REST, RabbitMQ or Kafka)";
    settings = {
      mode = {
        type = types.enum [
          "rest"
          "amqp"
          "kafka"
        ];
        description = "rest (POST /reserve), amqp (consume from RabbitMQ) or kafka.";
      };
      stock = {
        type = types.str;
        description = "Initial stock, sku=qty,...";
      };
      fault-delay-ms = {
        type = types.ints.between 0 600000;
        description = "Fault injection: delay every reservation by this many ms (also POST /configure at run time).";
      };
      fault-mode = {
        type = types.enum [
          "none"
          "error"
          "hang"
        ];
        description = "Fault injection: none, error (answer 500) or hang (never answer).";
      };
      inherit amqp-url;
      inherit kafka-brokers;
      inherit throttle-ms;
      inherit paused;
      transactional-id = {
        type = types.str;
        description = "kafka: the producer's transactional.id (default commlab-inventory); a restarted instance with the same id fences its dead predecessor.";
      };
    };
  };

  services.notification = {
    binary = "commlab-notification";
    port = 8082;
    description = "notification service (POST /send, or InventoryReserved from RabbitMQ)";
    settings = {
      mode = {
        type = types.enum [
          "rest"
          "amqp"
        ];
        description = "rest (POST /send) or amqp (also consume InventoryReserved from RabbitMQ).";
      };
      inherit amqp-url;
    };
  };

  services.analytics = {
    binary = "commlab-analytics";
    port = 8083;
    description = "analytics service (Kafka consumer: per-minute counts by event time)";
    settings = {
      inherit kafka-brokers;
      metrics-file = {
        type = types.str;
        description = "Write the canonical metrics.json here whenever the stream is idle.";
      };
      inherit throttle-ms;
      inherit paused;
    };
  };
}
