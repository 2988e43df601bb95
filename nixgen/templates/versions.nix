# Evaluate the version of each listed attribute in one nixpkgs. Static: the input is a
# JSON file { source = { path } or { url; sha256 }; attrs = { name = [ "attr.path" ]; }; }.
# Output: { name = { attr = version; }; }; missing, broken or unversioned attributes are
# left out. Used by `zagi catalog update` and to check escape-hatch attributes at lock time.
{ query, system ? builtins.currentSystem }:
let
  q = builtins.fromJSON (builtins.readFile query);
  src = if q.source ? path then /. + q.source.path
        else builtins.fetchTarball { inherit (q.source) url sha256; };
  pkgs = import src { inherit system; config = { }; overlays = [ ]; };  # never the user's
  lookup = path: builtins.foldl' (s: a: if s != null && builtins.isAttrs s && s ? ${a} then s.${a} else null)
    pkgs (builtins.filter builtins.isString (builtins.split "\\." path));
  versionOf = path:
    let r = builtins.tryEval (let p = lookup path; in if p != null && p ? version then p.version else null);
    in if r.success then r.value else null;
  perName = attrs: builtins.listToAttrs (builtins.filter (x: x.value != null)
    (map (a: { name = a; value = versionOf a; }) attrs));
in builtins.mapAttrs (name: attrs: perName attrs) q.attrs
