# Each VM node's configuration evaluated with nixpkgs' own `lib.evalModules`
# against nixpkgs' own modules of what the nodes use (services.rabbitmq,
# services.apache-kafka, epmd, the firewall, the disk size option) and this
# repository's module, with stand-ins for the rest of NixOS (systemd units,
# users, boot, packages), so that removed options, types, defaults and
# assertions are nixpkgs' own. NIXPKGS is a folder of nixpkgs files (its
# nixos/modules/... and lib/), kept outside this repository. Used by
# nixpkgs-eval.sh:
#   nodes          [ "TEST NODE" ]
#   verdict TEST NODE
#                  "" when the node evaluates and every assertion holds, else
#                  the failed assertions' messages (an evaluation error stops
#                  the evaluation with its own message)
{
  nixpkgs,
  test ? "",
  node ? "",
}:
let
  lib = import (nixpkgs + "/lib");
  inherit (lib) mkOption types;

  # A package stand-in: a derivation-shaped set with a store path.
  pkg = name: {
    type = "derivation";
    inherit name;
    pname = name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    drvPath = "/nix/store/00000000000000000000000000000000-${name}.drv";
    meta = { };
  };
  storeFile = name: "/nix/store/00000000000000000000000000000000-${name}";
  pkgs =
    lib.genAttrs [
        "coreutils"
      "curl"
      "erlang"
      "gawk"
      "iproute2"
      "iptables"
      "jq"
      "kcat"
      "nftables"
      "nixos-firewall-tool"
      "rabbitmq-server"
    ] pkg
    // {
      inherit lib;
      # services.apache-kafka.jre defaults to its passthru.jre.
      apacheKafka = pkg "apache-kafka" // {
        passthru.jre = pkg "jre";
      };
      runtimeShell = "${pkg "bash"}/bin/bash";
      callPackage = file: _: pkg (baseNameOf (toString file));
      writeText = name: text: builtins.seq text (storeFile name);
      formats.javaProperties = _: {
        generate = name: value: builtins.deepSeq value (storeFile name);
      };
      testers.runNixOSTest = t: t;
    };

  root = ../..;
  tests = import (root + "/nixos-tests/vm") {
    inherit pkgs;
    commlab = pkg "commlab";
    scenarios = pkg "commlab-scenarios";
    module = root + "/pkgs/module.nix";
    referenceMetrics = "${pkg "streaming-kafka.metrics.json"}";
  };

  nixosModule = path: nixpkgs + "/nixos/modules/${path}";
  realModules = map nixosModule [
    "services/amqp/rabbitmq.nix"
    "services/misc/apache-kafka.nix"
    "services/networking/epmd.nix"
    "services/networking/firewall.nix"
    "virtualisation/disk-size-option.nix"
  ];

  # The rest of NixOS, as loosely typed as it may be: what the real modules
  # above and the nodes define or read, no more.
  loose = mkOption {
    type = types.attrsOf types.anything;
    default = { };
  };
  unit = types.attrsOf (types.submodule { freeformType = types.attrsOf types.anything; });
  standIns =
    { name, ... }:
    {
      options = {
        assertions = mkOption {
          type = types.listOf types.unspecified;
          default = [ ];
        };
        warnings = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        meta = mkOption {
          type = types.lazyAttrsOf types.raw;
          default = { };
        };
        environment.systemPackages = mkOption {
          # nixos/modules/config/system-path.nix
          type = types.listOf types.package;
          default = [ ];
        };
        users.users = loose;
        users.groups = loose;
        ids.uids = loose;
        ids.gids = loose;
        systemd.services = mkOption {
          type = unit;
          default = { };
        };
        systemd.sockets = mkOption {
          type = unit;
          default = { };
        };
        systemd.tmpfiles.rules = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        networking.hostName = mkOption { type = types.str; };
        networking.enableIPv6 = mkOption {
          type = types.bool;
          default = true;
        };
        networking.nftables.enable = mkOption {
          type = types.bool;
          default = false;
        };
        boot.kernelModules = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        boot.extraModprobeConfig = mkOption {
          type = types.lines;
          default = "";
        };
        boot.kernelPackages = loose;
        virtualisation.memorySize = mkOption {
          # nixos/modules/virtualisation/qemu-vm.nix
          type = types.ints.positive;
          default = 1024;
        };
      };
      config = {
        # As the test framework and qemu-vm.nix set them.
        networking.hostName = lib.mkDefault name;
        virtualisation.diskSizeAutoSupported = false;
        ids.uids.rabbitmq = 91;
        ids.gids.rabbitmq = 91;
        _module.args = {
          inherit pkgs;
          # nixos/lib/utils.nix's, closely enough for evaluation.
          utils.escapeSystemdExecArgs = lib.concatMapStringsSep " " builtins.toJSON;
        };
      };
    };

  eval =
    t: n:
    lib.evalModules {
      modules = realModules ++ [
        standIns
        tests.${t}.nodes.${n}
      ];
      specialArgs.name = n;
    };

  # Every defined option's value, forced (types are checked on merge); meta
  # is left out, as nixpkgs.lib carries no maintainer list, and _module, the
  # module system's own (its args hold all of lib).
  definedValues =
    options:
    map (o: o.value) (
      lib.filter (o: o.isDefined && !lib.elem (lib.head o.loc) [ "meta" "_module" ]) (lib.collect lib.isOption options)
    );
in
{
  nodes = lib.concatMap (t: map (n: "${t} ${n}") (lib.attrNames tests.${t}.nodes)) (
    lib.attrNames tests
  );

  verdict =
    let
      e = eval test node;
      failed = map (a: a.message) (lib.filter (a: !a.assertion) e.config.assertions);
    in
    if failed != [ ] then
      lib.concatStringsSep "\n" failed
    else
      builtins.deepSeq (definedValues e.options) "";
}
