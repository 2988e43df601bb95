# Evaluate the version of each listed attribute in one nixpkgs (for `zagi catalog update`).
# Input: a JSON file {name: [attr path, ...]}. Output: {name: {attr: version}}; attributes
# that are missing, broken or unversioned are left out. Static: nixgen only writes the JSON.
{ nixpkgs, attrsFile, system ? builtins.currentSystem }:
let
  pkgs = import nixpkgs { inherit system; };
  wanted = builtins.fromJSON (builtins.readFile attrsFile);
  lookup = path: builtins.foldl' (s: a: if s != null && builtins.isAttrs s && s ? ${a} then s.${a} else null)
    pkgs (builtins.filter builtins.isString (builtins.split "\\." path));
  versionOf = path:
    let r = builtins.tryEval (let p = lookup path; in if p != null && p ? version then p.version else null);
    in if r.success then r.value else null;
  perName = attrs: builtins.listToAttrs (builtins.filter (x: x.value != null)
    (map (a: { name = a; value = versionOf a; }) attrs));
in builtins.mapAttrs (name: attrs: perName attrs) wanted
