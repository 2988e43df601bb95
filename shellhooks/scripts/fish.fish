# zagi shell hook for fish. Install: zagi hook fish | source   (in ~/.config/fish/config.fish)
# Builtins only per prompt. fish's `path mtime` has one-second resolution, so a lock that
# changes within the second after a prompt is noticed at the next change or `cd`.
set -g _ZAGI_HOME (set -q ZAGI_HOME; and echo $ZAGI_HOME; or echo @ZAGI_HOME@)
set -g _ZAGI_EXE @ZAGI_EXE@
set -g _ZAGI_PWD ''
set -g _ZAGI_SEEN ''
set -g _ZAGI_ROOT ''
set -g _ZAGI_ID ''
set -g _ZAGI_MT ''
set -g _ZAGI_SAID ''

function _zagi_say
    test "$argv[1]|$argv[2]" = "$_ZAGI_SAID"; and return 0
    set -g _ZAGI_SAID "$argv[1]|$argv[2]"
    echo "zagi: $argv[1]: $argv[2]" >&2
end
function _zagi_bg
    set -q ZAGI_AUTO_SYNC; or return 0
    fish -c "cd "(string escape -- $argv[1])"; and "(string escape -- $_ZAGI_EXE)" sync >/dev/null 2>&1" &
    disown
end
function _zagi_deactivate
    test -n "$_ZAGI_ID"; or return 0
    if test -n "$_ZAGI_PROJ"
        source $_ZAGI_PROJ/deactivate.fish 2>/dev/null
        set -g _ZAGI_PROJ ''
    end
    source $_ZAGI_HOME/envs/$_ZAGI_ID/deactivate.fish 2>/dev/null
    set -g _ZAGI_ID ''
    set -g _ZAGI_ROOT ''
    set -e ZAGI_PROJECT ZAGI_ENV_ID
end
function _zagi_activate
    set -l e $_ZAGI_HOME/envs/$argv[2]
    test -r $e/activate.fish; or return 1
    source $e/activate.fish
    # The project's own variables (its services' ports and sockets), undone first.
    set -l p $_ZAGI_HOME/projects/(string replace -a / % -- $argv[1])
    if test -r $p/activate.fish; and test -r $p/deactivate.fish
        source $p/activate.fish
        set -g _ZAGI_PROJ $p
        # [project] autostart: on entering only (never on an idle prompt), never waited for.
        if test -e $p/autostart
            fish -c "cd "(string escape -- $argv[1])"; and "(string escape -- $_ZAGI_EXE)" up -d >/dev/null 2>&1" &
            disown 2>/dev/null
        end
    end
    set -g _ZAGI_ROOT $argv[1]
    set -g _ZAGI_ID $argv[2]
    set -g _ZAGI_SAID ''
    true >$e/last-used 2>/dev/null
    if set -q ZAGI_PROMPT_VARS
        set -g ZAGI_PROJECT (path basename $argv[1])
        set -g ZAGI_ENV_ID (string sub -l 12 $argv[2])
    end
end
function _zagi_mtimes
    path mtime $argv[1]/.zagi/env.lock $argv[1]/.zagi/.synced 2>/dev/null | string join ,
end
function _zagi_update
    set -g _ZAGI_PWD $PWD
    set -l d $PWD
    while not test -f $d/.zagi/env.toml
        if test -z "$d" -o "$d" = /
            set d ''
            break
        end
        set d (path dirname $d)
    end
    set -g _ZAGI_SEEN $d
    if test -z "$d"
        _zagi_deactivate
        return 0
    end
    set -g _ZAGI_MT (_zagi_mtimes $d)
    set -l id ''
    test -f $d/.zagi/.synced; and read -l first <$d/.zagi/.synced; and set id $first
    if test -z "$id"; or not test -d $_ZAGI_HOME/envs/$id
        _zagi_deactivate  # never synced here: untrusted, so never synced in the background
        _zagi_say $d "env not set up here; run `zagi sync`"
        return 0
    end
    if not test -e $_ZAGI_HOME/allow/$id/(string replace -a / % -- $d)
        _zagi_deactivate
        _zagi_say $d "env not allowed; run `zagi allow` to activate it"
        return 0
    end
    set -l mt (path mtime $d/.zagi/env.lock $d/.zagi/.synced)
    if test (count $mt) -eq 2; and test $mt[1] -gt $mt[2]
        if set -q ZAGI_AUTO_SYNC
            _zagi_say $d "env.lock changed; syncing in the background (keeping the last env meanwhile)"
        else
            _zagi_say $d "env.lock changed; run `zagi sync` (keeping the last env meanwhile)"
        end
        _zagi_bg $d  # trusted project: sync checks the new lock's sources itself
    end
    test "$d" = "$_ZAGI_ROOT" -a "$id" = "$_ZAGI_ID"; and return 0
    _zagi_deactivate
    _zagi_activate $d $id
end
function _zagi_hook --on-event fish_prompt --on-variable PWD
    if test "$PWD" != "$_ZAGI_PWD"
        _zagi_update
    else if test -n "$_ZAGI_SEEN"; and test (_zagi_mtimes $_ZAGI_SEEN) != "$_ZAGI_MT"
        _zagi_update
    end
end
