# zagi shell hook for bash. Install: eval "$(zagi hook bash)" at the end of ~/.bashrc
# Per prompt, when nothing changed: one string compare (and, inside a project, two
# `-nt` file tests). No process is started and Nix is never evaluated: `zagi sync`
# precomputes everything this sources.
_ZAGI_HOME=${ZAGI_HOME:-@ZAGI_HOME@}
_ZAGI_EXE=@ZAGI_EXE@
_ZAGI_STAMP=$_ZAGI_HOME/run/hook.$$
_ZAGI_PWD= _ZAGI_SEEN= _ZAGI_ROOT= _ZAGI_ID= _ZAGI_OFF= _ZAGI_SAID=

# Save a variable's state (u = unset, s = set, x = exported) and value before changing it.
_zagi_save() {
  local -n _zagi_r=$1
  if [[ -v $1 ]]; then
    printf -v "_ZAGI_OLD_$1" '%s' "$_zagi_r"
    if [[ ${_zagi_r@a} == *x* ]]; then printf -v "_ZAGI_HAD_$1" x; else printf -v "_ZAGI_HAD_$1" s; fi
  else
    printf -v "_ZAGI_HAD_$1" u
  fi
}
# Remove the directories activation prepended; put the variable back in its old state.
_zagi_unprepend() {
  local _zagi_n=$1 _zagi_d _zagi_h; shift
  local -n _zagi_r=$_zagi_n
  local _zagi_v=":${_zagi_r-}:"
  for _zagi_d in "$@"; do _zagi_v=${_zagi_v/":$_zagi_d:"/:}; done
  _zagi_v=${_zagi_v#:}; _zagi_v=${_zagi_v%:}
  _zagi_h=_ZAGI_HAD_$_zagi_n
  case ${!_zagi_h-x} in
    u) if [[ -z $_zagi_v ]]; then unset "$_zagi_n"; else export "$_zagi_n=$_zagi_v"; fi ;;
    s) _zagi_r=$_zagi_v; export -n "$_zagi_n" ;;
    *) export "$_zagi_n=$_zagi_v" ;;
  esac
  unset "_ZAGI_HAD_$_zagi_n" "_ZAGI_OLD_$_zagi_n"
}
_zagi_restore() {
  local _zagi_h=_ZAGI_HAD_$1 _zagi_o=_ZAGI_OLD_$1
  case ${!_zagi_h-u} in
    x) export "$1=${!_zagi_o}" ;;
    s) printf -v "$1" '%s' "${!_zagi_o}"; export -n "$1" ;;
    *) unset "$1" ;;
  esac
  unset "_ZAGI_HAD_$1" "_ZAGI_OLD_$1"
}
_zagi_say() {  # once per project and message, until something changes
  [[ "$1|$2" == "$_ZAGI_SAID" ]] && return 0
  _ZAGI_SAID="$1|$2"
  printf 'zagi: %s: %s\n' "$1" "$2" >&2
}
_zagi_bg() {  # opt-in (ZAGI_AUTO_SYNC=1), allowed projects only: sync in the background
  [[ -n ${ZAGI_AUTO_SYNC-} ]] || return 0
  (cd "$1" && "$_ZAGI_EXE" sync >/dev/null 2>&1 &)
}
_zagi_deactivate() {
  [[ -n $_ZAGI_ID ]] || return 0
  eval "$_ZAGI_OFF"
  _ZAGI_ID= _ZAGI_ROOT= _ZAGI_OFF=
  unset ZAGI_PROJECT ZAGI_ENV_ID
}
_zagi_activate() {  # ROOT ENV-ID
  local _zagi_e=$_ZAGI_HOME/envs/$2
  [[ -r $_zagi_e/activate.sh && -r $_zagi_e/deactivate.sh ]] || return 1
  # Keep the deactivation in memory: `zagi gc` may delete the file while we are active.
  IFS= read -r -d '' _ZAGI_OFF < "$_zagi_e/deactivate.sh"
  . "$_zagi_e/activate.sh"
  # The project's own variables (its services' ports and sockets), undone first.
  local _zagi_p=$_ZAGI_HOME/projects/${1//\//%} _zagi_o=
  if [[ -r $_zagi_p/activate.sh && -r $_zagi_p/deactivate.sh ]]; then
    IFS= read -r -d '' _zagi_o < "$_zagi_p/deactivate.sh"
    _ZAGI_OFF=$_zagi_o$'\n'$_ZAGI_OFF
    . "$_zagi_p/activate.sh"
    # [project] autostart: on entering only (never on an idle prompt), never waited for.
    [[ -e $_zagi_p/autostart ]] && (cd "$1" && "$_ZAGI_EXE" up -d >/dev/null 2>&1 &)
  fi
  _ZAGI_ROOT=$1 _ZAGI_ID=$2 _ZAGI_SAID=
  : 2>/dev/null > "$_zagi_e/last-used"  # a builtin "touch" for `zagi gc`
  if [[ -n ${ZAGI_PROMPT_VARS-} ]]; then ZAGI_PROJECT=${1##*/} ZAGI_ENV_ID=${2:0:12}; fi
}
_zagi_update() {
  _ZAGI_PWD=$PWD
  : 2>/dev/null > "$_ZAGI_STAMP"
  local _zagi_d=$PWD _zagi_id=
  while [[ ! -f $_zagi_d/.zagi/env.toml ]]; do
    if [[ -z $_zagi_d || $_zagi_d == / ]]; then _zagi_d=; break; fi
    _zagi_d=${_zagi_d%/*}
  done
  _ZAGI_SEEN=$_zagi_d
  if [[ -z $_zagi_d ]]; then _zagi_deactivate; return 0; fi
  [[ -f $_zagi_d/.zagi/.synced ]] && read -r _zagi_id < "$_zagi_d/.zagi/.synced"
  if [[ -z $_zagi_id || ! -d $_ZAGI_HOME/envs/$_zagi_id ]]; then
    _zagi_deactivate  # never synced here: untrusted, so never synced in the background
    _zagi_say "$_zagi_d" "env not set up here; run \`zagi sync\`"
    return 0
  fi
  if [[ ! -e $_ZAGI_HOME/allow/$_zagi_id/${_zagi_d//\//%} ]]; then
    _zagi_deactivate
    _zagi_say "$_zagi_d" "env not allowed; run \`zagi allow\` to activate it"
    return 0
  fi
  if [[ $_zagi_d/.zagi/env.lock -nt $_zagi_d/.zagi/.synced ]]; then
    if [[ -n ${ZAGI_AUTO_SYNC-} ]]; then
      _zagi_say "$_zagi_d" "env.lock changed; syncing in the background (keeping the last env meanwhile)"
    else
      _zagi_say "$_zagi_d" "env.lock changed; run \`zagi sync\` (keeping the last env meanwhile)"
    fi
    _zagi_bg "$_zagi_d"  # trusted project: sync checks the new lock's sources itself
  fi
  [[ $_zagi_d == "$_ZAGI_ROOT" && $_zagi_id == "$_ZAGI_ID" ]] && return 0
  _zagi_deactivate
  _zagi_activate "$_zagi_d" "$_zagi_id"
}
_zagi_hook() {
  local _zagi_rc=$?
  if [[ $PWD != "$_ZAGI_PWD" ]] || { [[ -n $_ZAGI_SEEN ]] &&
       { [[ $_ZAGI_SEEN/.zagi/env.lock -nt $_ZAGI_STAMP ]] ||
         [[ $_ZAGI_SEEN/.zagi/.synced -nt $_ZAGI_STAMP ]]; }; }; then
    _zagi_update
  fi
  return $_zagi_rc
}
# The hook uses namerefs (bash 4.3); macOS ships bash 3.2: say so once, install nothing.
if (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 403 )); then
  printf 'zagi: the bash hook needs bash 4.3 or newer (this is %s; macOS: brew install bash, or use zsh); not active\n' "$BASH_VERSION" >&2
elif [[ ";${PROMPT_COMMAND:-};" != *";_zagi_hook;"* ]]; then
  PROMPT_COMMAND="_zagi_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
