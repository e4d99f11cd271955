# The text of `commlab-nixfmt` (`nix fmt`, pkgs/nixfmt.nix): formats every
# .nix file under the given paths (default: the current directory).
if [ "$#" -eq 0 ]; then
  set -- .
fi
find "$@" -name '*.nix' -type f -exec nixfmt {} +
