# The env composed from store paths alone, without nixpkgs: Nix's builtin buildenv, the
# builder nix-env's profiles use. Static: everything comes from the JSON file zagi writes:
#   { name; packages = [ { paths = [ "/nix/store/..." ]; priority = N; } ]; }
# Lower priority wins a file two packages both provide (zagi gives every package its own
# priority, so composing never fails on a collision; docs/catalog.md says the order).
# Each path is named with its string context (appendContext), not read: another
# system's out path is computed without its paths, and this system's derivation is
# written once zagi made them valid (a derivation may only refer to valid paths).
{ data, system ? builtins.currentSystem }:
let
  spec = builtins.fromJSON (builtins.readFile data);
  named = p: builtins.appendContext p { ${p} = { path = true; }; };
  group = p: [ "true" (toString p.priority) (toString (builtins.length p.paths)) ]
    ++ map named p.paths;
in derivation {
  name = spec.name;
  inherit system;
  builder = "builtin:buildenv";
  # nix-env's manifest link; an env is no nix-env profile, and a toFile here would add a
  # path of its own to every closure (one no cache has, unsigned)
  manifest = "/dev/null";
  derivations = builtins.concatMap group spec.packages;
  # symlinks only: never worth a substitution or a remote builder
  preferLocalBuild = true;
  allowSubstitutes = false;
}
