# zagi for direnv: add to ~/.config/direnv/direnvrc (`zagi hook direnv --install` does),
# then put `use zagi` in a project's .envrc and `direnv allow` it. direnv itself
# restores the environment on leaving; zagi only exports the precomputed env.
use_zagi() {
  local root=${1:-$PWD} home=${ZAGI_HOME:-@ZAGI_HOME@} id=
  watch_file "$root/.zagi/env.toml" "$root/.zagi/env.lock" "$root/.zagi/.synced"
  [[ -f $root/.zagi/.synced ]] && read -r id < "$root/.zagi/.synced"
  if [[ -z $id || ! -r $home/envs/$id/export.sh ]]; then
    log_error "zagi: env not set up in $root; run \`zagi sync\`"
    return 1
  fi
  if [[ $root/.zagi/env.lock -nt $root/.zagi/.synced ]]; then
    log_status "zagi: env.lock changed; run \`zagi sync\` (keeping the last env meanwhile)"
  fi
  . "$home/envs/$id/export.sh"
  local proj=$home/projects/${root//\//%}
  if [[ -r $proj/export.sh ]]; then . "$proj/export.sh"; fi  # its services' variables
  : 2>/dev/null > "$home/envs/$id/last-used"
}
