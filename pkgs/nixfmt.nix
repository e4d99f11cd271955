# `nix fmt`: nixfmt (RFC 166 style) over the .nix files. The script is
# nixfmt.sh, so that it can be checked as a file.
{
  writeShellApplication,
  nixfmt-rfc-style,
  findutils,
}:

writeShellApplication {
  name = "commlab-nixfmt";
  runtimeInputs = [
    nixfmt-rfc-style
    findutils
  ];
  text = builtins.readFile ./nixfmt.sh;
}
