# Stand-ins for nixpkgs, so that `nix-instantiate --eval --store dummy://`
# can compute what the project's expressions generate without nixpkgs or a
# Nix store: the text of each writeShellApplication in pkgs/, each VM test's
# testScript and node names, and the settings table of the NixOS module.
# Only what these expressions use is here; a new use fails the evaluation
# (add it, with nixpkgs' meaning at the pinned release). Used by
# nixos-tests/lib/nixlint.sh.
let
  inherit (builtins)
    attrNames
    concatStringsSep
    functionArgs
    head
    filter
    isAttrs
    mapAttrs
    match
    replaceStrings
    ;

  # A package: its store path as a string, its name, no dependencies.
  pkg = name: {
    type = "derivation";
    inherit name;
    pname = name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    buildInputs = [ ];
  };

  lib = rec {
    inherit concatStringsSep;
    concatStrings = concatStringsSep "";
    concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
    mapAttrsToList = f: attrs: map (n: f n attrs.${n}) (attrNames attrs);
    optionalString = cond: s: if cond then s else "";
    findFirst =
      pred: default: list:
      let
        found = filter pred list;
      in
      if found == [ ] then default else head found;
    getName = p: if isAttrs p then p.pname or (builtins.parseDrvName p.name).name else p;
    getExe' = p: name: "${p}/bin/${name}";
    getExe = p: getExe' p p.meta.mainProgram or (getName p);
    makeBinPath = ps: concatMapStringsSep ":" (p: "${p}/bin") ps;
    # As nixpkgs' lib.strings: quoted unless every character is safe.
    escapeShellArg =
      arg:
      let
        s = toString arg;
      in
      if match "[[:alnum:],._+:@%/-]+" s != null then s else "'${replaceStrings [ "'" ] [ "'\\''" ] s}'";
    escapeShellArgs = concatMapStringsSep " " escapeShellArg;
    toShellVar = name: value: "${name}=${escapeShellArg value}";
    licenses.mit = { };
    platforms.linux = [ ];
  };

  runtimeShell = "${pkg "bash"}/bin/bash";

  # writeShellApplication as nixpkgs' trivial-builders assembles the script
  # at the pinned release: shebang, `set -o` options, runtimeEnv, PATH from
  # runtimeInputs, then the text. Returns that text and the ShellCheck flags
  # its check phase adds (--exclude for excludeShellChecks, then
  # extraShellCheckFlags).
  writeShellApplication =
    {
      name,
      text,
      runtimeInputs ? [ ],
      runtimeEnv ? null,
      excludeShellChecks ? [ ],
      extraShellCheckFlags ? [ ],
      bashOptions ? [
        "errexit"
        "nounset"
        "pipefail"
      ],
      ...
    }:
    {
      inherit name;
      text =
        "#!${runtimeShell}\n"
        + lib.concatMapStringsSep "\n" (o: "set -o ${o}") bashOptions
        + "\n"
        + lib.optionalString (runtimeEnv != null) (
          lib.concatStrings (lib.mapAttrsToList (n: v: "${lib.toShellVar n v}\nexport ${n}\n") runtimeEnv)
        )
        + lib.optionalString (runtimeInputs != [ ]) "\nexport PATH=\"${lib.makeBinPath runtimeInputs}:$PATH\"\n"
        + "\n${text}\n";
      shellcheckFlags =
        (if excludeShellChecks == [ ] then [ ] else [ "--exclude=${concatStringsSep "," excludeShellChecks}" ])
        ++ extraShellCheckFlags;
    };

  # The package set: the functions above, and a stand-in package for any
  # other name. rabbitmq-server is built with an Erlang, as in nixpkgs.
  packages = {
    inherit lib writeShellApplication runtimeShell;
    callPackage = file: _: pkg (baseNameOf (toString file));
    rabbitmq-server = pkg "rabbitmq-server" // {
      buildInputs = [ (pkg "erlang") ];
    };
    testers.runNixOSTest = test: test;
    # Named in VM testScripts (not only inside node configurations).
    nftables = pkg "nftables";
  };
  pkgsFor = args: mapAttrs (n: _: packages.${n} or (pkg n)) args;
in
{
  # The package set and the package stand-in, for nix-option-paths.nix.
  inherit packages pkg;

  # { name, text, shellcheckFlags } of the writeShellApplication in FILE
  # (a callPackage-style expression).
  shellApplication =
    file:
    let
      f = import file;
    in
    f (pkgsFor (functionArgs f));

  # Each VM test: { name = { script; nodes; }; }.
  vmTests =
    let
      tests = import ../vm {
        pkgs = packages;
        commlab = pkg "commlab";
        scenarios = pkg "commlab-scenarios";
        module = { };
        referenceMetrics = "${pkg "streaming-kafka.metrics.json"}";
      };
    in
    mapAttrs (_: t: {
      script = t.testScript;
      nodes = attrNames t.nodes;
    }) tests;

  # The NixOS module's settings: { service = { binary; settings = [ name ];
  # ranges = { name = { lo; hi; }; }; }; }, ranges of the integer settings
  # (hi null: unbounded), from these stand-ins for the lib types it uses.
  moduleSettings =
    let
      types = {
        str = { };
        bool = { };
        enum = _: { };
        ints = {
          between = lo: hi: { inherit lo hi; };
          unsigned = {
            lo = 0;
            hi = null;
          };
          positive = {
            lo = 1;
            hi = null;
          };
        };
      };
      table = import ../../pkgs/module-settings.nix { inherit types; };
    in
    mapAttrs (
      _: s:
      let
        all = s.settings // table.common;
      in
      {
        inherit (s) binary;
        settings = attrNames all;
        ranges = builtins.listToAttrs (
          map (n: {
            name = n;
            value = all.${n}.type;
          }) (filter (n: all.${n}.type ? lo) (attrNames all))
        );
      }
    ) table.services;
}
