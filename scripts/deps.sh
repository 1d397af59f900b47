#!/bin/sh
# deps.sh — install the Debian packages ministry-tutor needs, only if missing.
#
# Usage: scripts/deps.sh [build|check|forky|bench]
#   build  what `make` and `make run` need: for every CPython 3.11 or newer
#          the release offers, libpython3.X, python3.X-dev and python3.X-dbg
#          (one worker is built for each), and the C libraries
#   check  also what `make check` and `make check-forky` need (tmux, xmllint,
#          rsvg-convert, clang, jsonschema for the export schema, chromium
#          for the hand-out page, debootstrap for the forky root, valgrind
#          for the guard's test under it)
#   forky  what `make check` needs inside the Debian forky root of
#          `make check-forky`: check less clang (fuzzing is the host's)
#   bench  also what `make bench` needs (hyperfine, GNU time, strace, pgrep, readelf)
#
# Idempotent: when every package is present it asks dpkg-query and
# apt-cache only, with no network.  As root it runs `apt-get update` once
# when needed, then `apt-get install -y`; otherwise it prints the exact
# sudo line and exits 1.
#
# libpython3.X, python3.X-dev and python3.X-dbg are always installed
# together, so that the debug symbols match the loaded library's build-id.
set -eu

want=${1:-build}
base="libncurses-dev libcapstone-dev libelf-dev libdw-dev libjansson-dev librsvg2-dev
fonts-dejavu-core pkg-config xxd gcc make"
case $want in
build) pkgs=$base ;;
check) pkgs="$base check tmux libxml2-utils librsvg2-bin clang libclang-rt-dev python3-jsonschema
       chromium debootstrap valgrind" ;;
forky) pkgs="$base check tmux libxml2-utils librsvg2-bin python3-jsonschema chromium" ;;
bench) pkgs="$base check tmux hyperfine time strace procps binutils" ;;
*) echo "deps.sh: unknown set '$want' (build, check, forky or bench)" >&2; exit 2 ;;
esac

root=
[ "$(id -u)" = 0 ] && root=yes
updated=

# The CPython minor versions, 11 and up, that apt offers a -dev package for,
# with the ones already installed (apt's lists may be empty).
offered() {
    { apt-cache pkgnames python3. 2>/dev/null || true
      dpkg-query -W -f='${Package}\n' 'python3.*-dev' 2>/dev/null || true; } |
        sed -n 's/^python3\.\([0-9][0-9]*\)-dev$/\1/p' | awk '$1 >= 11' | sort -nu
}
minors=$(offered)
if [ -z "$minors" ] && [ -n "$root" ]; then
    apt-get update -qq
    updated=yes
    minors=$(offered)
fi
[ -n "$minors" ] || minors=11

# libFuzzer is in the libclang-rt of clang's own version (bookworm:
# clang is clang-14, so libclang-rt-14-dev).
case " $pkgs " in
*" libclang-rt-dev "*)
    v=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -n 1)
    [ -z "$v" ] || pkgs=$(echo "$pkgs" | sed "s/libclang-rt-dev/libclang-rt-$v-dev/") ;;
esac

installed() {
    case $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) in
    *"install ok installed"*) return 0 ;;
    esac
    return 1
}

missing=
for p in $pkgs; do
    installed "$p" || missing="$missing $p"
done

# Per version, the trio goes in by name together (libpython3.X is not a
# dependency of python3.X-dbg), so apt brings all three to one version,
# whenever one is missing or they disagree.
trios=
for m in $minors; do
    v=3.$m
    t="libpython$v python$v-dev python$v-dbg"
    redo=
    for p in $t; do
        installed "$p" || redo=yes
    done
    n=$(dpkg-query -W -f='${Version}\n' $t 2>/dev/null | sort -u | wc -l)
    [ "$n" = 1 ] || redo=yes
    if [ -n "$redo" ]; then
        extra=
        for p in libpython$v-dbg libpython$v-stdlib; do
            if apt-cache pkgnames "$p" 2>/dev/null | grep -qx "$p"; then
                extra="$extra $p"
            fi
        done
        trios="$trios $t$extra"
    fi
done

# The debug file must match the library actually installed: by build-id.
check_build_ids() {
    for m in $minors; do
        lib=$(ls /usr/lib/*/libpython3.$m.so.1.0 2>/dev/null | head -n 1)
        [ -n "$lib" ] || continue
        id=$(LC_ALL=C readelf -n "$lib" 2>/dev/null | sed -n 's/.*Build ID: *//p' | head -n 1)
        [ -n "$id" ] || continue
        dbg=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
        if [ ! -f "$dbg" ]; then
            echo "deps.sh: warning: no debug symbols for $lib (build-id $id): $dbg is missing;" >&2
            echo "  stage 7 will run SIMULATED on 3.$m (see: ministry-tutor --doctor)" >&2
        fi
    done
}

if [ -z "$missing$trios" ]; then
    command -v readelf >/dev/null && check_build_ids
    exit 0
fi

if [ -z "$root" ]; then
    echo "ministry-tutor needs these Debian packages:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing$trios" >&2
    exit 1
fi

echo "deps.sh: installing$missing$trios" >&2
export DEBIAN_FRONTEND=noninteractive
[ -n "$updated" ] || apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing $trios >/dev/null

for m in $minors; do
    t="libpython3.$m python3.$m-dev python3.$m-dbg"
    n=$(dpkg-query -W -f='${Version}\n' $t 2>/dev/null | sort -u | wc -l)
    if [ "$n" != 1 ]; then
        echo "deps.sh: $t still differ in version:" >&2
        dpkg-query -W $t >&2
        exit 1
    fi
done
command -v readelf >/dev/null && check_build_ids
