# The environment of a zagi project. Static: everything project-specific comes from
# the JSON file nixgen writes (no Nix code is generated). Shape of `data`:
#   { name; nixpkgs = { <id> = { path = "/abs"; } or { url; sha256; }; };
#     packages = [ { nixpkgs = <id>; attr = [ "a" "b" ]; } ];
#     buildEnv = <id>; extraOutputs = [ "dev" "man" ]; }
{ data, system ? builtins.currentSystem }:
let
  spec = builtins.fromJSON (builtins.readFile data);
  source = r: if r ? path then /. + r.path
              else builtins.fetchTarball { inherit (r) url sha256; };
  # Explicit config and no overlays: nixpkgs would otherwise read the user's
  # ~/.config/nixpkgs (config.nix, overlays), and the same lock would give other outputs.
  sets = builtins.mapAttrs (id: r: import (source r) { inherit system; config = { }; overlays = [ ]; })
    spec.nixpkgs;
  pick = p: builtins.foldl' (s: a: builtins.getAttr a s) (builtins.getAttr p.nixpkgs sets) p.attr;
in (builtins.getAttr spec.buildEnv sets).buildEnv {
  name = spec.name;
  paths = map pick spec.packages;
  extraOutputsToInstall = spec.extraOutputs;
  pathsToLink = [ "/bin" "/lib" "/include" "/share" "/etc" ];
}
