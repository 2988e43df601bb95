# zagi shell hook for zsh. Install: eval "$(zagi hook zsh)" at the end of ~/.zshrc
# Same logic as the bash hook: builtins only, nothing runs per prompt when nothing changed.
typeset -g _ZAGI_HOME=${ZAGI_HOME:-@ZAGI_HOME@}
typeset -g _ZAGI_EXE=@ZAGI_EXE@
typeset -g _ZAGI_STAMP=$_ZAGI_HOME/run/hook.$$
typeset -g _ZAGI_PWD= _ZAGI_SEEN= _ZAGI_ROOT= _ZAGI_ID= _ZAGI_OFF= _ZAGI_SAID=
zmodload zsh/parameter 2>/dev/null

_zagi_save() {
  if (( ${+parameters[$1]} )); then
    typeset -g "_ZAGI_OLD_$1=${(P)1}"
    if [[ ${parameters[$1]} == *export* ]]; then typeset -g "_ZAGI_HAD_$1=x"
    else typeset -g "_ZAGI_HAD_$1=s"; fi
  else
    typeset -g "_ZAGI_HAD_$1=u"
  fi
}
_zagi_unprepend() {
  local n=$1 d v h; shift
  v=":${(P)n-}:"
  for d in "$@"; do v=${v/":$d:"/:}; done
  v=${v#:}; v=${v%:}
  h=_ZAGI_HAD_$n
  case ${(P)h-x} in
    u) if [[ -z $v ]]; then unset $n; else export $n=$v; fi ;;
    s) typeset -g $n=$v; typeset +x $n ;;
    *) export $n=$v ;;
  esac
  unset _ZAGI_HAD_$n _ZAGI_OLD_$n
}
_zagi_restore() {
  local h=_ZAGI_HAD_$1 o=_ZAGI_OLD_$1
  case ${(P)h-u} in
    x) export $1=${(P)o} ;;
    s) typeset -g $1=${(P)o}; typeset +x $1 ;;
    *) unset $1 ;;
  esac
  unset _ZAGI_HAD_$1 _ZAGI_OLD_$1
}
_zagi_say() {
  [[ "$1|$2" == "$_ZAGI_SAID" ]] && return 0
  _ZAGI_SAID="$1|$2"
  print -u2 -r -- "zagi: $1: $2"
}
_zagi_bg() {
  [[ -n ${ZAGI_AUTO_SYNC-} ]] || return 0
  (cd "$1" && "$_ZAGI_EXE" sync >/dev/null 2>&1 &!)
}
_zagi_deactivate() {
  [[ -n $_ZAGI_ID ]] || return 0
  eval "$_ZAGI_OFF"
  _ZAGI_ID= _ZAGI_ROOT= _ZAGI_OFF=
  unset ZAGI_PROJECT ZAGI_ENV_ID
}
_zagi_activate() {
  local e=$_ZAGI_HOME/envs/$2
  [[ -r $e/activate.sh && -r $e/deactivate.sh ]] || return 1
  IFS= read -r -d '' _ZAGI_OFF < "$e/deactivate.sh"
  . "$e/activate.sh"
  # The project's own variables (its services' ports and sockets), undone first.
  local p=$_ZAGI_HOME/projects/${1//\//%} o=
  if [[ -r $p/activate.sh && -r $p/deactivate.sh ]]; then
    IFS= read -r -d '' o < "$p/deactivate.sh"
    _ZAGI_OFF=$o$'\n'$_ZAGI_OFF
    . "$p/activate.sh"
    # [project] autostart: on entering only (never on an idle prompt), never waited for.
    [[ -e $p/autostart ]] && (cd "$1" && "$_ZAGI_EXE" up -d >/dev/null 2>&1 &!)
  fi
  _ZAGI_ROOT=$1 _ZAGI_ID=$2 _ZAGI_SAID=
  : 2>/dev/null >| "$e/last-used"
  if [[ -n ${ZAGI_PROMPT_VARS-} ]]; then typeset -g ZAGI_PROJECT=${1:t} ZAGI_ENV_ID=${2[1,12]}; fi
}
_zagi_update() {
  _ZAGI_PWD=$PWD
  : 2>/dev/null >| "$_ZAGI_STAMP"
  local d=$PWD id=
  while [[ ! -f $d/.zagi/env.toml ]]; do
    if [[ -z $d || $d == / ]]; then d=; break; fi
    d=${d%/*}
  done
  _ZAGI_SEEN=$d
  if [[ -z $d ]]; then _zagi_deactivate; return 0; fi
  [[ -f $d/.zagi/.synced ]] && read -r id < "$d/.zagi/.synced"
  if [[ -z $id || ! -d $_ZAGI_HOME/envs/$id ]]; then
    _zagi_deactivate  # never synced here: untrusted, so never synced in the background
    _zagi_say "$d" "env not set up here; run \`zagi sync\`"
    return 0
  fi
  if [[ ! -e $_ZAGI_HOME/allow/$id/${d//\//%} ]]; then
    _zagi_deactivate
    _zagi_say "$d" "env not allowed; run \`zagi allow\` to activate it"
    return 0
  fi
  if [[ $d/.zagi/env.lock -nt $d/.zagi/.synced ]]; then
    if [[ -n ${ZAGI_AUTO_SYNC-} ]]; then
      _zagi_say "$d" "env.lock changed; syncing in the background (keeping the last env meanwhile)"
    else
      _zagi_say "$d" "env.lock changed; run \`zagi sync\` (keeping the last env meanwhile)"
    fi
    _zagi_bg "$d"  # trusted project: sync checks the new lock's sources itself
  fi
  [[ $d == "$_ZAGI_ROOT" && $id == "$_ZAGI_ID" ]] && return 0
  _zagi_deactivate
  _zagi_activate "$d" "$id"
}
_zagi_hook() {
  local rc=$?
  if [[ $PWD != "$_ZAGI_PWD" ]] || { [[ -n $_ZAGI_SEEN ]] &&
       { [[ $_ZAGI_SEEN/.zagi/env.lock -nt $_ZAGI_STAMP ]] ||
         [[ $_ZAGI_SEEN/.zagi/.synced -nt $_ZAGI_STAMP ]]; }; }; then
    _zagi_update
  fi
  return $rc
}
autoload -Uz add-zsh-hook
add-zsh-hook precmd _zagi_hook
add-zsh-hook chpwd _zagi_hook
