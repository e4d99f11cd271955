# Shared pieces of the VM tests: service nodes built from the NixOS module,
# broker nodes from nixpkgs' own modules, the client, and the command lines
# that run scenario phases on the client. The scenario scripts do the work
# and the asserting; the test scripts only start, stop, crash and delay nodes.
{
  pkgs,
  commlab,
  scenarios,
  module,
}:

let
  inherit (pkgs) lib;
in
rec {
  # The workload seed: the same as the local lab's default.
  seed = 1;

  # The testScript of a VM test: its Python glue (FILES, nixos-tests/vm/*.py)
  # after a class `nix` whose attributes are VALUES, what the glue takes
  # from the Nix side (command lines, paths, numbers, lists of strings; their
  # JSON is a Python literal). The linters (nixos-tests/lib/nixlint.sh) check
  # the same text, so a glue line naming a value that is not here fails there.
  glue =
    files: values:
    let
      literal =
        v:
        assert builtins.isString v || builtins.isInt v || builtins.isList v;
        builtins.toJSON v;
      line =
        k: v:
        assert builtins.match "[a-z][a-z0-9_]*" k != null;
        "    ${k} = ${literal v}\n";
    in
    "class nix:\n"
    + builtins.concatStringsSep "" (builtins.attrValues (builtins.mapAttrs line values))
    + builtins.concatStringsSep "" (map (f: "\n\n" + builtins.readFile f) files);

  # Plans (nixos-tests/plans/TEST.json, format in plans/README.md): the
  # nodes and the testScript of a VM test that runs one. Values take their
  # "vm" side; a node reference is the URL of that node's service.
  moduleServices = (import ../../pkgs/module-settings.nix { types = { }; }).services;
  planValue =
    plan: v:
    if builtins.isAttrs v then
      if v ? param then
        plan.params.${v.param}.vm
      else if v ? node then
        planUrl plan v.node
      else if v ? nodes then
        lib.concatMapStringsSep "," (planUrl plan) v.nodes
      else if v ? file then
        planFile v.file
      else
        throw "plan ${plan.test}: not a value: ${builtins.toJSON v}"
    else
      v;
  # A service node's URL; a rabbitmq node's is its AMQP URL; a kafka node's is the
  # bootstrap list of them all.
  planUrl =
    plan: n:
    if (plan.nodes.${n}.role or "") == "kafka" then
      planBrokers plan
    else if (plan.nodes.${n}.role or "") == "rabbitmq" then
      "amqp://guest:guest@${n}:5672"
    else
      "http://${n}:${toString moduleServices.${plan.nodes.${n}.service}.port}";
  planKafkaNodes = plan: builtins.filter (n: (plan.nodes.${n}.role or "") == "kafka") (builtins.attrNames plan.nodes);
  planKafkaAttrs =
    plan: f:
    builtins.listToAttrs (
      map (n: {
        name = n;
        value = f n;
      }) (planKafkaNodes plan)
    );
  planBrokers = plan: builtins.concatStringsSep "," (map (n: "${n}:9092") (planKafkaNodes plan));
  # Every kafka node of a plan is a broker and a controller; topics are
  # replicated on all of them, and acks=all producers go on with one down
  # (min.insync.replicas one less, at least 1).
  planKafkaReplicas = plan: builtins.length (planKafkaNodes plan);
  planKafkaNode =
    plan: node:
    kafkaNode {
      nodeId = node.broker;
      voters = map (n: "${toString plan.nodes.${n}.broker}@${n}:9093") (planKafkaNodes plan);
      replicas = planKafkaReplicas plan;
      minIsr = if planKafkaReplicas plan > 1 then planKafkaReplicas plan - 1 else 1;
    };
  # A file of the source tree ({"file": "results/..."}), in the store.
  planFile = f: "${../.. + "/${f}"}";
  # The RabbitMQ cluster of rabbitmqClusterNode (plan nodes with
  # "cluster": true; lib/plan.jq checks the same names).
  rabbitmqCluster = [
    "rabbitmq1"
    "rabbitmq2"
    "rabbitmq3"
  ];
  planNodes =
    plan:
    builtins.mapAttrs (
      n: node:
      if node ? service then
        serviceNode node.service (builtins.mapAttrs (_: planValue plan) (node.settings or { }))
      else if (node.role or "") == "client" then
        clientNode
      else if (node.role or "") == "kafka" then
        planKafkaNode plan node
      else if (node.role or "") == "rabbitmq" then
        if !(node.cluster or false) then
          rabbitmqNode
        else if builtins.elem n rabbitmqCluster then
          rabbitmqClusterNode
        else
          throw "plan ${plan.test}: node ${n}: a RabbitMQ cluster node is one of ${toString rabbitmqCluster}"
      else
        throw "plan ${plan.test}: node ${n}: no VM node for role ${node.role or "(none)"}"
    ) plan.nodes;
  # What the interpreter (plan.py) knows of this test's machines.
  planLab =
    plan:
    let
      services = builtins.listToAttrs (
        map (n: {
          name = n;
          value = plan.nodes.${n};
        }) (builtins.filter (n: plan.nodes.${n} ? service) (builtins.attrNames plan.nodes))
      );
      # Nodes with a URL besides the services: the brokers.
      brokers = builtins.listToAttrs (
        map (n: {
          name = n;
          value = plan.nodes.${n};
        }) (builtins.filter (n: builtins.elem (plan.nodes.${n}.role or "") [ "rabbitmq" "kafka" ]) (builtins.attrNames plan.nodes))
      );
      # Every {"file": F} value of the plan.
      filesIn =
        v:
        if builtins.isAttrs v then
          (if v ? file && builtins.isString v.file then [ v.file ] else [ ])
          ++ builtins.concatMap filesIn (builtins.attrValues v)
        else if builtins.isList v then
          builtins.concatMap filesIn v
        else
          [ ];
    in
    {
      inherit seed;
      inherit (plan) test;
      scenarios = "${scenarios}/share/commlab/nixos-tests/scenarios";
      netfault = "NFT=${pkgs.nftables}/bin/nft sh ${scenarios}/share/commlab/nixos-tests/scenarios/net-fault.sh";
      results = "/tmp/results/${plan.test}";
      # netem on the inter-VM interface (eth1; eth0 is the driver's).
      iface = "eth1";
      urls = builtins.mapAttrs (n: _: planUrl plan n) (services // brokers);
      files = builtins.listToAttrs (
        map (f: {
          name = f;
          value = planFile f;
        }) (filesIn plan)
      );
      units =
        builtins.mapAttrs (_: node: "commlab-${node.service}.service") services
        // planKafkaAttrs plan (_: "apache-kafka.service");
      ports =
        builtins.mapAttrs (_: node: moduleServices.${node.service}.port) services
        // planKafkaAttrs plan (_: 9092);
      # What the measuring steps (until, record, sample) run: lib/plan-metrics.json.
      registry = builtins.fromJSON (builtins.readFile ../lib/plan-metrics.json);
      # The rabbitmq role (plan.py): its unit and port, and rabbitmqctl's
      # queries as the rabbitmq user.
      rabbitmq = {
        unit = "rabbitmq.service";
        port = 5672;
        cluster_status = rabbitmqctl "cluster_status --formatter json";
        queues = rabbitmqctl "list_queues name members --formatter json";
      };
    }
    // (if planKafkaNodes plan == [ ] then { } else {
      # The phases' Kafka: a real broker, so the strict exactly-once checks.
      phase_env.KAFKA_TRANSACTIONS = "real";
      # Before any service starts: the brokers up (and their controller port),
      # then the topics, replicated on every broker, made from the client.
      kafka = {
        controller_port = 9093;
        topics = "commlab-kafka topics --brokers ${planBrokers plan} --partitions 6 --replication ${toString (planKafkaReplicas plan)}";
        replication_check =
          "kafka-topics.sh --bootstrap-server ${builtins.head (planKafkaNodes plan)}:9092 --describe --topic order-events"
          + " | grep 'ReplicationFactor: ${toString (planKafkaReplicas plan)}'";
      };
    });
  # The testScript: the plan and planLab as JSON strings (a JSON string is a
  # Python string literal), the interpreter, and its call.
  planScript =
    plan:
    "PLAN_JSON = ${builtins.toJSON (builtins.toJSON plan)}\n"
    + "LAB_JSON = ${builtins.toJSON (builtins.toJSON (planLab plan))}\n\n"
    + builtins.readFile ./plan.py
    + "\n\nrun_plan(json.loads(PLAN_JSON), json.loads(LAB_JSON))\n";

  # Command line running phase NAME of scenarios/SCRIPT.sh on the client,
  # with the endpoints in ENV; results go to /tmp/results/OUT (copied to $out).
  phase =
    {
      script,
      out ? script,
    }:
    env: name: args:
    lib.concatStringsSep " " (
      [
        "env"
        "SEED=${toString seed}"
        "OUT_DIR=/tmp/results/${out}"
      ]
      ++ lib.mapAttrsToList (k: v: "${k}=${lib.escapeShellArg (toString v)}") env
      ++ [
        "sh"
        "${scenarios}/share/commlab/nixos-tests/scenarios/${script}.sh"
        name
      ]
      ++ map (a: lib.escapeShellArg (toString a)) args
    );

  # A network fault on the node that runs it (scenarios/net-fault.sh, the
  # same rules as the local lab's hosts mode): "cut PEER...", "isolate",
  # "heal".
  netFault =
    args:
    "NFT=${pkgs.nftables}/bin/nft sh ${scenarios}/share/commlab/nixos-tests/scenarios/net-fault.sh ${args}";

  # netem on the inter-VM interface (eth1; eth0 is the driver's).
  netemAdd = ms: "tc qdisc add dev eth1 root netem delay ${toString ms}ms";
  netemDel = "tc qdisc del dev eth1 root";

  # A node running one commlab service from the NixOS module.
  serviceNode =
    name: settings:
    { ... }:
    {
      imports = [ module ];
      services.commlab.${name} = {
        enable = true;
        package = commlab;
        openFirewall = true;
        settings = {
          quiet = true;
        } // settings;
      };
      environment.systemPackages = [
        commlab
        pkgs.iproute2
      ];
      virtualisation.memorySize = 1024;
    };

  # The client: load generator, tools and the scenario scripts.
  clientNode =
    { ... }:
    {
      environment.systemPackages = [
        commlab
        scenarios
        pkgs.curl
        pkgs.jq
        pkgs.kcat
        # amqp-publish, for publishing by hand as a plain AMQP client would
        # (nixpkgs' rabbitmq-c has no tools: pkgs/amqp-tools.nix turns them on).
        (pkgs.callPackage ../../pkgs/amqp-tools.nix { })
        pkgs.gawk
        pkgs.iproute2
      ];
      virtualisation.memorySize = 1024;
    };

  # RabbitMQ from nixpkgs' module, reachable from the other nodes with the
  # default guest account (a test network only).
  rabbitmqNode =
    { ... }:
    {
      services.rabbitmq = {
        enable = true;
        listenAddress = "0.0.0.0";
        managementPlugin.enable = true;
        configItems = {
          "loopback_users.guest" = "false";
        };
      };
      networking.firewall.allowedTCPPorts = [
        5672
        15672
      ];
      virtualisation.memorySize = 1536;
      virtualisation.diskSize = 2048;
    };

  # One node of the three-node RabbitMQ cluster of vm-rabbitmq-cluster (nodes
  # rabbitmq1..3): one cookie, the others found by classic peer discovery,
  # a minority side paused on a partition, a lost peer noticed in seconds.
  rabbitmqClusterNode =
    { ... }:
    {
      services.rabbitmq = {
        enable = true;
        listenAddress = "0.0.0.0";
        # nixpkgs removed `cookie` (mkRemovedOptionModule); `unsafeCookie`
        # puts it in the store, which only a test network may do.
        unsafeCookie = "commlab-vm-cluster";
        configItems = {
          "loopback_users.guest" = "false";
          "cluster_formation.peer_discovery_backend" = "classic_config";
          "cluster_formation.classic_config.nodes.1" = "rabbit@rabbitmq1";
          "cluster_formation.classic_config.nodes.2" = "rabbit@rabbitmq2";
          "cluster_formation.classic_config.nodes.3" = "rabbit@rabbitmq3";
          "cluster_partition_handling" = "pause_minority";
        };
        config = "[{kernel, [{net_ticktime, 10}]}].";
      };
      environment.systemPackages = [ pkgs.jq ];
      networking.firewall.allowedTCPPorts = [
        4369
        5672
        25672
      ];
      virtualisation.memorySize = 1536;
      virtualisation.diskSize = 2048;
    };

  # `rabbitmqctl ARGS` as the rabbitmq user: the module writes the Erlang
  # cookie only to its home (/var/lib/rabbitmq/.erlang.cookie), so root's CLI
  # would bring a cookie of its own and be refused (nixpkgs' own
  # nixos/tests/rabbitmq.nix runs it the same way).
  rabbitmqctl =
    args: "su -s ${pkgs.runtimeShell} rabbitmq -c ${lib.escapeShellArg "rabbitmqctl ${args}"}";

  # Apache Kafka from nixpkgs' module in KRaft mode, every node both broker
  # and controller. VOTERS lists all nodes as "ID@HOST:9093"; REPLICAS is the
  # replication of internal topics; MIN_ISR is min.insync.replicas.
  kafkaNode =
    {
      nodeId,
      voters,
      replicas,
      minIsr,
    }:
    { config, ... }:
    {
      services.apache-kafka = {
        enable = true;
        # Any base64 UUID, the same on every node of a cluster
        # (`kafka-storage.sh random-uuid` makes one).
        clusterId = "Y29tbWxhYi1rcmFmdC0wMQ";
        formatLogDirs = true;
        settings = {
          "node.id" = nodeId;
          "process.roles" = [
            "broker"
            "controller"
          ];
          listeners = [
            "PLAINTEXT://:9092"
            "CONTROLLER://:9093"
          ];
          "advertised.listeners" = [ "PLAINTEXT://${config.networking.hostName}:9092" ];
          "listener.security.protocol.map" = [
            "PLAINTEXT:PLAINTEXT"
            "CONTROLLER:PLAINTEXT"
          ];
          "controller.listener.names" = [ "CONTROLLER" ];
          "inter.broker.listener.name" = "PLAINTEXT";
          "controller.quorum.voters" = voters;
          "log.dirs" = [ "/var/lib/apache-kafka" ];
          "num.partitions" = 6;
          "default.replication.factor" = replicas;
          "min.insync.replicas" = minIsr;
          "offsets.topic.replication.factor" = replicas;
          "transaction.state.log.replication.factor" = replicas;
          "transaction.state.log.min.isr" = minIsr;
          "group.initial.rebalance.delay.ms" = 0;
        };
      };
      systemd.services.apache-kafka.serviceConfig.StateDirectory = "apache-kafka";
      environment.systemPackages = [ config.services.apache-kafka.package ];
      networking.firewall.allowedTCPPorts = [
        9092
        9093
      ];
      virtualisation.memorySize = 2048;
      virtualisation.diskSize = 2048;
    };
}
