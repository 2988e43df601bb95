# Evaluate the version of each listed attribute in one nixpkgs. Static: the input is a
# JSON file { source = { path } or { url; sha256 }; attrs = { name = [ "attr.path" ]; };
# installed = [ "out" ... ]; }.
# Output: { name = { attr = version; }; }; missing, broken or unversioned attributes are
# left out. Used by `zagi catalog update` and to check escape-hatch attributes at lock time.
# With systems = [ ... ] (a JSON list, --argstr): { name = { attr = { system = { output =
# path; }; }; }; } instead: the store paths of the outputs zagi installs (out, bin, lib,
# dev, man), per system, evaluated not built, for a catalog that locks by store path.
{ query, system ? builtins.currentSystem, systems ? "" }:
let
  q = builtins.fromJSON (builtins.readFile query);
  src = if q.source ? path then /. + q.source.path
        else builtins.fetchTarball { inherit (q.source) url sha256; };
  pkgsFor = system: import src { inherit system; config = { }; overlays = [ ]; };  # never the user's
  pkgs = pkgsFor system;
  lookupIn = set: path: builtins.foldl' (s: a: if s != null && builtins.isAttrs s && s ? ${a} then s.${a} else null)
    set (builtins.filter builtins.isString (builtins.split "\\." path));
  lookup = lookupIn pkgs;
  versionOf = path:
    let r = builtins.tryEval (let p = lookup path; in if p != null && p ? version then p.version else null);
    in if r.success then r.value else null;
  perName = attrs: builtins.listToAttrs (builtins.filter (x: x.value != null)
    (map (a: { name = a; value = versionOf a; }) attrs));
  kept = q.installed;  # zagi's list (nixgen/facts.py KEPT_OUTPUTS)
  outputsOf = set: path:
    let r = builtins.tryEval (let p = lookupIn set path; in
          # a derivation that may not be substituted is in no cache: locking it by path
          # would only promise a download that cannot happen
          if p == null || !(p ? outPath) || !(p.allowSubstitutes or true) then null
          else builtins.seq p.drvPath builtins.listToAttrs (map (o: { name = o; value = p.${o}.outPath; })
                 (builtins.filter (o: builtins.elem o (p.outputs or [ "out" ])) kept)));
    in if r.success then r.value else null;
  bySystem = path: builtins.listToAttrs (builtins.filter (x: x.value != null)
    (map (s: { name = s; value = outputsOf (pkgsFor s) path; }) (builtins.fromJSON systems)));
  pathsOf = attrs: builtins.listToAttrs (map (a: { name = a; value = bySystem a; }) attrs);
in if systems != "" then builtins.mapAttrs (name: attrs: pathsOf attrs) q.attrs
else builtins.mapAttrs (name: attrs: perName attrs) q.attrs
