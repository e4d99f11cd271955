# The option paths the VM tests define, for the option facts table
# (nixpkgs-options.tsv, checked by nixlint_options in nixlint.sh): each
# test's own attributes (scope "test") and every definition of every node
# (scope "node"), following `imports` into pkgs/module.nix. Its `lib` is the
# stand-ins' with the module system's wrappers as nixpkgs' lib builds them
# (mkIf, mkMerge, mkDefault, mkForce, mkOverride), which the walk looks
# through: a definition under a condition is still a definition. A path is a
# list of segments, since keys such as settings."node.id" hold dots. Takes
# nix-standin.nix's set.
s:
let
  inherit (builtins)
    attrNames
    concatMap
    isAttrs
    isFunction
    isPath
    isString
    mapAttrs
    removeAttrs
    ;
  inherit (s.packages) lib;

  # As nixpkgs' lib/modules.nix makes them.
  wrappers = {
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkOverride = priority: content: {
      _type = "override";
      inherit priority content;
    };
    mkDefault = wrappers.mkOverride 1000;
    mkForce = wrappers.mkOverride 50;
  };

  # What pkgs/module.nix uses of lib beyond the stand-ins, for its
  # definitions only (its option declarations are never forced).
  moduleLib =
    lib
    // wrappers
    // {
      types = { };
      inherit (builtins) mapAttrs;
      concatLists = builtins.concatLists;
      filterAttrs =
        pred: set: builtins.listToAttrs (concatMap (n: if pred n set.${n} then [ { name = n; value = set.${n}; } ] else [ ]) (attrNames set));
      optional = cond: x: if cond then [ x ] else [ ];
    };

  # The configuration a node's definitions may read: what they read, and
  # every commlab service's options as a node would have them.
  settingsTable = import ../../pkgs/module-settings.nix { types = { }; };
  config = {
    networking.hostName = "node";
    services.apache-kafka.package = s.packages.apacheKafka or { };
    services.commlab = mapAttrs (_: _: {
      enable = true;
      package = "commlab";
      listen = "0.0.0.0:1";
      openFirewall = true;
      settings = { };
      environmentFile = null;
    }) settingsTable.services;
  };
  args = {
    inherit config;
    lib = moduleLib;
    pkgs = s.packages;
    utils.escapeSystemdExecArgs = _: "";
    options = { };
  };

  # Paths of the definitions in V (under PREFIX): attribute sets are walked,
  # anything else (a list, a string, a package, an empty set) ends a path.
  walk =
    prefix: v:
    if isAttrs v && v ? _type then
      if v._type == "merge" then concatMap (walk prefix) v.contents else walk prefix v.content
    else if isAttrs v && v != { } && (v.type or null) != "derivation" then
      concatMap (n: walk (prefix ++ [ n ]) v.${n}) (attrNames v)
    else
      [ prefix ];

  # Paths a module defines, its imports' included.
  module =
    m:
    let
      f = if isPath m || isString m then import m else m;
      r = if isFunction f then f args else f;
      defs = if r ? config || r ? options then r.config or { } else removeAttrs r [ "imports" ];
    in
    walk [ ] defs ++ concatMap module (r.imports or [ ]);

  tests = import ../vm {
    pkgs = s.packages;
    commlab = s.pkg "commlab";
    scenarios = s.pkg "commlab-scenarios";
    module = ../../pkgs/module.nix;
    referenceMetrics = "metrics.json";
  };

  entries = scope: test: node: paths: map (path: { inherit scope test node path; }) paths;
in
entries "node" "pkgs/module.nix" "" (module ../../pkgs/module.nix)
++ concatMap (
  test:
  let
    t = tests.${test};
  in
  entries "test" test "" (walk [ ] (removeAttrs t [ "nodes" ]) ++ [ [ "nodes" ] ])
  ++ concatMap (node: entries "node" test node (module t.nodes.${node})) (attrNames t.nodes)
) (attrNames tests)
