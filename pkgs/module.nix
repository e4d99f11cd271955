# NixOS module: services.commlab.{order,inventory,notification,analytics}.
#
# Each service is one systemd unit, commlab-<service>.service, running as a
# dynamic user with its SQLite database under /var/lib/commlab-<service>.
# `settings` become the service's COMMLAB_<NAME> environment variables (the
# same names as its --name=value options; see `<binary> --help`).
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib) types;

  settingValue = types.oneOf [
    types.str
    types.int
    types.bool
  ];

  # One option per known setting; null leaves the program's own default.
  setting =
    type: description:
    lib.mkOption {
      type = types.nullOr type;
      default = null;
      inherit description;
    };

  services = {
    order = {
      binary = "commlab-order";
      port = 8080;
      description = "order service (POST /order: sync REST chain, async via RabbitMQ or stream via Kafka)";
      settings = {
        mode = setting (types.enum [
          "sync"
          "async"
          "stream"
        ]) "sync (REST chain), async (RabbitMQ) or stream (Kafka).";
        inventory-url = setting types.str "sync: inventory service base URL, e.g. http://inventory:8081.";
        notification-url = setting types.str "sync: notification service base URL.";
        inventory-timeout-ms = setting types.ints.positive "sync: answer 504 when inventory takes longer than this.";
        notification-timeout-ms = setting types.ints.positive "sync: give up on notification after this long.";
        amqp-url = setting types.str "async: RabbitMQ URL, amqp://user:pass@host:port/vhost.";
        kafka-brokers = setting types.str "stream: Kafka bootstrap servers, host:port,...";
      };
    };
    inventory = {
      binary = "commlab-inventory";
      port = 8081;
      description = "inventory service (reservations over REST, RabbitMQ or Kafka)";
      settings = {
        mode = setting (types.enum [
          "rest"
          "amqp"
          "kafka"
        ]) "rest (POST /reserve), amqp (consume from RabbitMQ) or kafka.";
        stock = setting types.str "Initial stock, sku=qty,...";
        fault-delay-ms = setting types.ints.unsigned "Fault injection: delay every reservation by this many ms (also POST /configure at run time).";
        fault-mode = setting (types.enum [
          "none"
          "error"
          "hang"
        ]) "Fault injection: none, error (answer 500) or hang (never answer).";
        amqp-url = setting types.str "amqp: RabbitMQ URL, amqp://user:pass@host:port/vhost.";
        kafka-brokers = setting types.str "kafka: Kafka bootstrap servers, host:port,...";
      };
    };
    notification = {
      binary = "commlab-notification";
      port = 8082;
      description = "notification service (POST /send, or InventoryReserved from RabbitMQ)";
      settings = {
        mode = setting (types.enum [
          "rest"
          "amqp"
        ]) "rest (POST /send) or amqp (also consume InventoryReserved from RabbitMQ).";
        amqp-url = setting types.str "amqp: RabbitMQ URL, amqp://user:pass@host:port/vhost.";
      };
    };
    analytics = {
      binary = "commlab-analytics";
      port = 8083;
      description = "analytics service (Kafka consumer: per-minute counts by event time)";
      settings = {
        kafka-brokers = setting types.str "Kafka bootstrap servers, host:port,...";
        metrics-file = setting types.str "Write the canonical metrics.json here whenever the stream is idle.";
        throttle-ms = setting types.ints.unsigned "Pause this long per event (makes consumer lag visible).";
        paused = setting types.bool "Start with consumption paused (resume with POST /configure {\"paused\":false}).";
      };
    };
  };

  envName = name: "COMMLAB_" + lib.toUpper (builtins.replaceStrings [ "-" ] [ "_" ] name);

  envValue =
    v:
    if builtins.isBool v then
      (if v then "1" else "0")
    else
      toString v;

  portOf = listen: lib.toInt (lib.last (lib.splitString ":" listen));

  serviceOptions =
    name: svc:
    {
      enable = lib.mkEnableOption "the commlab ${svc.description}";

      package = lib.mkOption {
        type = types.package;
        default = pkgs.callPackage ./commlab.nix { };
        defaultText = lib.literalExpression "pkgs.callPackage ./commlab.nix { }";
        description = "The commlab package providing `${svc.binary}`.";
      };

      listen = lib.mkOption {
        type = types.str;
        default = "0.0.0.0:${toString svc.port}";
        example = "127.0.0.1:${toString svc.port}";
        description = "HOST:PORT the service serves HTTP on (/healthz, /metrics and its API).";
      };

      openFirewall = lib.mkOption {
        type = types.bool;
        default = false;
        description = "Whether to open the port of `listen` in the firewall.";
      };

      settings = lib.mkOption {
        type = types.submodule {
          freeformType = types.attrsOf settingValue;
          options = svc.settings // {
            quiet = lib.mkOption {
              type = types.bool;
              default = false;
              description = "Log warnings and errors only.";
            };
          };
        };
        default = { };
        example = {
          quiet = true;
        };
        description = ''
          Options of `${svc.binary}`, passed as `COMMLAB_<NAME>`
          environment variables (upper case, `-` becomes `_`). Unset options
          keep the program's defaults; booleans become 1 or 0. Any option the
          program accepts may be given, not only those listed.
        '';
      };

      environmentFile = lib.mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/run/secrets/commlab-${name}.env";
        description = ''
          A file of `COMMLAB_<NAME>=value` lines read at start, for settings that
          must stay out of the Nix store (a broker URL with a password).
        '';
      };
    };

  serviceConfig =
    name: svc:
    let
      cfg = config.services.commlab.${name};
      env = lib.mapAttrs' (k: v: lib.nameValuePair (envName k) (envValue v)) (
        lib.filterAttrs (_: v: v != null) cfg.settings
      );
    in
    lib.mkIf cfg.enable {
      systemd.services."commlab-${name}" = {
        description = "commlab ${svc.description}";
        wantedBy = [ "multi-user.target" ];
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
        # Brokers on other machines may come up later: keep restarting.
        unitConfig.StartLimitIntervalSec = 0;
        environment = {
          COMMLAB_LISTEN = cfg.listen;
          COMMLAB_DB = "/var/lib/commlab-${name}/${name}.db";
        } // env;
        serviceConfig = {
          ExecStart = lib.getExe' cfg.package svc.binary;
          EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;
          DynamicUser = true;
          StateDirectory = "commlab-${name}";
          StateDirectoryMode = "0700";
          WorkingDirectory = "/var/lib/commlab-${name}";
          Restart = "on-failure";
          RestartSec = 1;
          TimeoutStopSec = 30;

          # Hardening: a network service with a database in its state directory.
          CapabilityBoundingSet = "";
          AmbientCapabilities = "";
          NoNewPrivileges = true;
          PrivateTmp = true;
          PrivateDevices = true;
          PrivateUsers = true;
          ProtectSystem = "strict";
          ProtectHome = true;
          ProtectClock = true;
          ProtectControlGroups = true;
          ProtectHostname = true;
          ProtectKernelLogs = true;
          ProtectKernelModules = true;
          ProtectKernelTunables = true;
          ProtectProc = "invisible";
          RestrictAddressFamilies = [
            "AF_INET"
            "AF_INET6"
            "AF_UNIX"
          ];
          RestrictNamespaces = true;
          RestrictRealtime = true;
          RestrictSUIDSGID = true;
          LockPersonality = true;
          MemoryDenyWriteExecute = true;
          RemoveIPC = true;
          SystemCallArchitectures = "native";
          SystemCallFilter = [
            "@system-service"
            "~@privileged"
          ];
          UMask = "0077";
        };
      };

      networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ (portOf cfg.listen) ];
    };
in
{
  options.services.commlab = lib.mapAttrs serviceOptions services;

  config = lib.mkMerge (lib.mapAttrsToList serviceConfig services);
}
