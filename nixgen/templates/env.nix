# The environment of a zagi project. Static: everything project-specific comes from
# the JSON file nixgen writes (no Nix code is generated). Shape of `data`:
#   { name; nixpkgs = { <id> = { path = "/abs"; } or { url; sha256; }; };
#     packages = [ { nixpkgs = <id>; attr = [ "a" "b" ]; } ];
#     buildEnv = <id>; extraOutputs = [ "dev" "man" ]; config = { allowUnfree?; ... }; }
# With part = "outputs": instead of the env, the store paths it links (each package's
# outputs buildEnv installs), so a lock for another system can read their closure from
# the narinfos of the caches Nix uses without building anything.
{ data, system ? builtins.currentSystem, part ? "env" }:
let
  spec = builtins.fromJSON (builtins.readFile data);
  source = r: if r ? path then /. + r.path
              else builtins.fetchTarball { inherit (r) url sha256; };
  # Explicit config (only what env.toml's [nix] asks: allowUnfree,
  # permittedInsecurePackages) and no overlays: nixpkgs would otherwise read the user's
  # ~/.config/nixpkgs (config.nix, overlays), and the same lock would give other outputs.
  config = spec.config or { };
  sets = builtins.mapAttrs (id: r: import (source r) { inherit system config; overlays = [ ]; })
    spec.nixpkgs;
  pick = p: builtins.foldl' (s: a: builtins.getAttr a s) (builtins.getAttr p.nixpkgs sets) p.attr;
  paths = map pick spec.packages;
  installed = p: builtins.filter (o: p ? ${o})
    ((p.meta.outputsToInstall or [ "out" ]) ++ spec.extraOutputs);
  outputs = builtins.concatMap (p: map (o: p.${o}.outPath) (installed p)) paths;
in if part == "outputs" then outputs
else (builtins.getAttr spec.buildEnv sets).buildEnv {
  name = spec.name;
  inherit paths;
  extraOutputsToInstall = spec.extraOutputs;
  pathsToLink = [ "/bin" "/lib" "/include" "/share" "/etc" ];
}
