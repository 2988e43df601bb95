# The environment of a zagi project. Static: everything project-specific comes from
# the JSON file nixgen writes (no Nix code is generated). Shape of `data`:
#   { name; nixpkgs = { <id> = { path = "/abs"; } or { url; sha256; }; };
#     packages = [ { nixpkgs = <id>; attr = [ "a" "b" ]; } ];
#     buildEnv = <id>; extraOutputs = [ "dev" "man" ]; config = { allowUnfree?; ... };
#     installed = [ "out" "bin" ... ]; }
# With part = "outputs": instead of the env, the store paths it links (each package's
# outputs buildEnv installs), so a lock for another system can read their closure from
# the narinfos of the caches Nix uses without building anything.
# With part = "packages": per package (in spec.packages' order), the paths of the
# outputs zagi installs (out, bin, lib, dev, man where it has them): what the lock
# records and zagi/env/compose.py composes. part = "build": those outputs, to build.
{ data, system ? builtins.currentSystem, part ? "env" }:
let
  spec = builtins.fromJSON (builtins.readFile data);
  # no sha256: every package of that set was locked by store path; the paths a build
  # from it gives are checked against the lock instead
  source = r: if r ? path then /. + r.path
              else if r ? sha256 then builtins.fetchTarball { inherit (r) url sha256; }
              else builtins.fetchTarball r.url;
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
  kept = spec.installed;  # zagi's list (nixgen/facts.py KEPT_OUTPUTS)
  chosen = p: builtins.filter (o: builtins.elem o (p.outputs or [ "out" ])) kept;
in if part == "outputs" then outputs
# (p.drvPath first: nixpkgs' licence and insecurity checks guard it, not each output)
else if part == "packages" then map (p: builtins.seq p.drvPath (map (o: p.${o}.outPath) (chosen p))) paths
else if part == "build" then builtins.concatMap (p: builtins.seq p.drvPath (map (o: p.${o}) (chosen p))) paths
else (builtins.getAttr spec.buildEnv sets).buildEnv {
  name = spec.name;
  inherit paths;
  extraOutputsToInstall = spec.extraOutputs;
  pathsToLink = [ "/bin" "/lib" "/include" "/share" "/etc" ];
}
