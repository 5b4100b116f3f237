#!/bin/bash
# tests/unit/test_includes.sh -- the include arrows point down only.
#
# Reads every #include of hash/, milter/, xmpp/, tests/ and tools/ and
# fails on one that points the wrong way:
#   - a project header is written with its folder ("hash/token.h"), never
#     bare (only the build's "config.h" is), and exists;
#   - hash/ includes only hash/, and hash/util/ only hash/util/; both use
#     libc and OpenSSL, and the configuration loader (hash/util/confload)
#     alone libconfuse;
#   - xmpp/ never includes milter/; xmpp/client/ and xmpp/component/ do not
#     include each other;
#   - milter/cache/ includes nothing else of milter/, nor xmpp/;
#   - the pure decision modules (milter/sign/signer, milter/verify/verifier,
#     milter/verify/verify_policy) include hash/ and each other only: no
#     libmilter, libstrophe, hiredis or other milter/ folder;
#   - libraries (milter/cache/, xmpp/client/) log through the callback in
#     their options, never through the process logger (hash/util/log.h).
# Usage: test_includes.sh [SOURCE-DIR]   (default: $top_srcdir, else ../..)

top=${1:-${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}}
cd "$top" || exit 99

bad=0 checked=0
# violation FILE LINE INCLUDE WHY
violation() {
    echo "FAIL $1:$2: #include $3: $4"
    bad=$((bad + 1))
}

pure_module() {
    case $1 in
    milter/sign/signer.[ch] | milter/verify/verifier.[ch] | milter/verify/verify_policy.[ch])
        return 0 ;;
    esac
    return 1
}

while IFS= read -r match; do
    file=${match%%:*}
    rest=${match#*:}
    line=${rest%%:*}
    text=${rest#*:}
    checked=$((checked + 1))
    if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
        target=${BASH_REMATCH[1]} quoted=yes
    elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^\>]+)\> ]]; then
        target=${BASH_REMATCH[1]} quoted=no
    else
        continue
    fi
    include="\"$target\""
    [ "$quoted" = no ] && include="<$target>"

    if [ "$quoted" = yes ]; then
        if [ "$target" != config.h ] && [[ $target != */* ]]; then
            violation "$file" "$line" "$include" "project headers are written with their folder"
            continue
        fi
        if [[ $target != config.h && ! -f $target ]]; then
            violation "$file" "$line" "$include" "no such header in the tree"
            continue
        fi
    fi

    case $file in
    hash/*)
        if [ "$quoted" = yes ]; then
            [[ $target == config.h || $target == hash/* ]] ||
                violation "$file" "$line" "$include" "hash/ includes hash/ only"
            [[ $file == hash/util/* && $target == hash/* && $target != hash/util/* ]] &&
                violation "$file" "$line" "$include" "hash/util/ includes hash/util/ only"
        elif [[ $target == confuse.h ]]; then
            [[ $file == hash/util/confload.[ch] ]] ||
                violation "$file" "$line" "$include" "libconfuse only in hash/util/confload"
        elif [[ $target == libmilter/* || $target == strophe.h || $target == hiredis/* ]]; then
            violation "$file" "$line" "$include" "hash/ uses libc and OpenSSL only"
        fi
        ;;
    xmpp/client/*)
        [[ $quoted == yes && ($target == milter/* || $target == xmpp/component/*) ]] &&
            violation "$file" "$line" "$include" "xmpp/client/ includes hash/ and itself only"
        [[ $target == hash/util/log.h ]] &&
            violation "$file" "$line" "$include" "a library logs through its options' logger"
        [[ $quoted == no && ($target == libmilter/* || $target == hiredis/* ||
                             $target == confuse.h) ]] &&
            violation "$file" "$line" "$include" "xmpp/client/ uses libstrophe, not this"
        ;;
    xmpp/component/*)
        [[ $quoted == yes && ($target == milter/* || $target == xmpp/client/*) ]] &&
            violation "$file" "$line" "$include" "xmpp/component/ includes hash/ and itself only"
        [[ $quoted == no && ($target == libmilter/* || $target == hiredis/*) ]] &&
            violation "$file" "$line" "$include" "xmpp/component/ uses libstrophe, not this"
        ;;
    milter/cache/*)
        [[ $quoted == yes && ($target == milter/* && $target != milter/cache/*) ]] &&
            violation "$file" "$line" "$include" "milter/cache/ includes nothing else of milter/"
        [[ $quoted == yes && $target == xmpp/* ]] &&
            violation "$file" "$line" "$include" "milter/cache/ does not include xmpp/"
        [[ $target == hash/util/log.h ]] &&
            violation "$file" "$line" "$include" "a library logs through its options' logger"
        [[ $quoted == no && ($target == libmilter/* || $target == strophe.h ||
                             $target == confuse.h) ]] &&
            violation "$file" "$line" "$include" "milter/cache/ uses hiredis, not this"
        ;;
    esac

    if pure_module "$file"; then
        if [ "$quoted" = yes ]; then
            [[ $target == config.h || $target == hash/* ]] || pure_module "$target" ||
                violation "$file" "$line" "$include" "a pure decision module includes hash/ only"
        elif [[ $target == libmilter/* || $target == strophe.h || $target == hiredis/* ||
                $target == confuse.h ]]; then
            violation "$file" "$line" "$include" "a pure decision module has no I/O library"
        fi
    fi
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include' --include='*.c' --include='*.h' \
             hash milter xmpp tests tools)

if [ "$checked" -eq 0 ]; then
    echo "FAIL no #include found under $top (wrong directory?)"
    exit 1
fi
echo "$checked includes checked, $bad pointing the wrong way"
[ "$bad" -eq 0 ]
