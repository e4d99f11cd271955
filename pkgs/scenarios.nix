# The scenario scripts (POSIX sh) and the local-lab driver, as data for the VM
# tests and for `nix run .#loadgen`; plus the single-node KRaft launcher.
# Installed layout: share/commlab/nixos-tests/{lib,scenarios,local,...} keeps
# the relative paths the scripts use to find each other.
{
  lib,
  stdenvNoCC,
}:

stdenvNoCC.mkDerivation {
  pname = "commlab-scenarios";
  version = "0.1.0";

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      (lib.fileset.difference ../nixos-tests ../nixos-tests/vm)
      ./kafka-kraft.sh
    ];
  };

  dontConfigure = true;
  dontBuild = true;

  installPhase = ''
    runHook preInstall
    mkdir -p $out/share/commlab $out/bin
    cp -R nixos-tests $out/share/commlab/nixos-tests
    install -m 0755 pkgs/kafka-kraft.sh $out/bin/commlab-kafka-kraft
    runHook postInstall
  '';

  meta = {
    description = "commlab scenario scripts (POSIX sh) and local-lab driver";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
  };
}
