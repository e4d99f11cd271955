# NixOS module: services.commlab.{order,inventory,notification,analytics}.
#
# Each service is one systemd unit, commlab-<service>.service, running as a
# dynamic user with its SQLite database under /var/lib/commlab-<service>.
# `settings` become the service's command-line options (`--name=value`, a
# true boolean as `--name`; see `<binary> --help`); the known ones per
# service are in module-settings.nix.
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:

let
  inherit (lib) types;

  settingValue = types.oneOf [
    types.str
    types.int
    types.bool
  ];

  # One option per known setting; without a default of its own, null leaves
  # the program's default.
  setting =
    s:
    lib.mkOption {
      type = if s ? default then s.type else types.nullOr s.type;
      default = s.default or null;
      inherit (s) description;
    };

  inherit (import ./module-settings.nix { inherit types; }) services common;

  # A setting as the binary's option. A false boolean is the program's
  # default (its flags take no value), so it is left out.
  optionArgs =
    name: v:
    if builtins.isBool v then lib.optional v "--${name}" else [ "--${name}=${toString v}" ];

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
          options = lib.mapAttrs (_: setting) (svc.settings // common);
        };
        default = { };
        example = {
          quiet = true;
        };
        description = ''
          Options of `${svc.binary}`, passed on its command line as
          `--name=value` (a true boolean as `--name`, a false one left out).
          Unset options keep the program's defaults. Any option the program
          accepts may be given, not only those listed; one it does not know
          stops the unit with "unknown option".
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
      args = lib.concatLists (
        lib.mapAttrsToList optionArgs (lib.filterAttrs (_: v: v != null) cfg.settings)
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
        # Settings on the command line beat COMMLAB_* variables (the
        # environmentFile's, or `systemctl set-environment` for one start).
        serviceConfig = {
          ExecStart = utils.escapeSystemdExecArgs (
            [
              (lib.getExe' cfg.package svc.binary)
              "--listen=${cfg.listen}"
              "--db=/var/lib/commlab-${name}/${name}.db"
            ]
            ++ args
          );
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
