{
  description = "commlab: one ordering workflow over REST, RabbitMQ and Kafka, in C, with crash and delay scenario tests";

  # NixOS 25.05 ("Warbler"), its final revision (the branch is closed, so the
  # pin does not move): its modules have everything the VM tests use
  # (services.rabbitmq, services.apache-kafka with KRaft `settings`,
  # `clusterId` and `formatLogDirs`, testers.runNixOSTest), and its packages
  # have all six libraries. flake.lock pins the same revision.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/ac62194c3917d5f474c1a844b6fd6da2db95077d";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      referenceMetrics =
        let
          file = ./results/streaming-kafka.metrics.json;
        in
        if builtins.pathExists file then file else null;
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          commlab = pkgs.callPackage ./pkgs/commlab.nix { };
          commlab-scenarios = pkgs.callPackage ./pkgs/scenarios.nix { };
          loadgen = pkgs.callPackage ./pkgs/loadgen-app.nix { inherit commlab commlab-scenarios; };
        in
        {
          inherit commlab commlab-scenarios loadgen;
          default = pkgs.symlinkJoin {
            name = "commlab-all-0.1.0";
            paths = [
              commlab
              commlab-scenarios
              loadgen
            ];
            meta = {
              description = "commlab services, tools, scenario scripts and the lab launcher";
              license = lib.licenses.mit;
              platforms = lib.platforms.linux;
            };
          };
        }
      );

      apps = forAllSystems (
        pkgs:
        let
          loadgen = {
            type = "app";
            program = lib.getExe self.packages.${pkgs.stdenv.hostPlatform.system}.loadgen;
            meta.description = "Boot a local lab and drive all three models (no arguments), or run loadgen against given endpoints";
          };
        in
        {
          inherit loadgen;
          default = loadgen;
        }
      );

      nixosModules.default = import ./pkgs/module.nix;

      checks = forAllSystems (
        pkgs:
        let
          own = self.packages.${pkgs.stdenv.hostPlatform.system};
        in
        {
          # Builds the services and runs the unit tests (checkPhase: ctest).
          inherit (own) commlab commlab-scenarios loadgen;
        }
        // import ./nixos-tests/vm {
          inherit pkgs referenceMetrics;
          inherit (own) commlab;
          scenarios = own.commlab-scenarios;
          module = self.nixosModules.default;
        }
      );

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.commlab ];
          packages = [
            pkgs.clang
            pkgs.gdb
            pkgs.rabbitmq-server
            # amqp-publish and friends: rabbitmq-c built with its tools
            (pkgs.callPackage ./pkgs/amqp-tools.nix { })
            pkgs.apacheKafka
            pkgs.kcat
            pkgs.curl
            pkgs.jq
            pkgs.gnuplot
            pkgs.sqlite
            pkgs.iproute2
            pkgs.shellcheck
            pkgs.nixfmt-rfc-style
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.callPackage ./pkgs/nixfmt.nix { });
    };
}
