#!/bin/sh
# deps.sh — install the Debian packages ministry-tutor needs, only if missing.
#
# Usage: scripts/deps.sh [build|check|bench]
#   build  what `make` and `make run` need
#   check  also what `make check` needs (tmux, xmllint, rsvg-convert, clang,
#          jsonschema for the export schema, chromium for the hand-out page)
#   bench  also what `make bench` needs (hyperfine, GNU time, strace, pgrep, readelf)
#
# Idempotent: when every package is present it asks dpkg-query only, with no
# network.  As root it runs `apt-get update` once, then `apt-get install -y`;
# otherwise it prints the exact sudo line and exits 1.
#
# libpython3.11, python3.11-dev and python3.11-dbg are always installed
# together, so that the debug symbols match the loaded library's build-id.
set -eu

want=${1:-build}
pkgs="libpython3.11 python3.11-dev python3.11-dbg libncurses-dev libcapstone-dev
libelf-dev libdw-dev libjansson-dev librsvg2-dev fonts-dejavu-core pkg-config xxd"
case $want in
build) ;;
check) pkgs="$pkgs check tmux libxml2-utils librsvg2-bin clang libclang-rt-14-dev
python3-jsonschema chromium" ;;
bench) pkgs="$pkgs check tmux hyperfine time strace procps binutils" ;;
*) echo "deps.sh: unknown set '$want' (build, check or bench)" >&2; exit 2 ;;
esac

# A package is "present" only when installed; the Python trio must also agree
# on one version, or the debug file will not match the library.
missing=
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case $st in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
# libpython3.11 is not a dependency of python3.11-dbg: install the three by
# name together, so apt brings them all to one version, whenever one is
# missing or they disagree.
trio=
case " $missing " in
*" libpython3.11 "* | *" python3.11-dev "* | *" python3.11-dbg "*) trio=yes ;;
esac
pyvers=$(dpkg-query -W -f='${Version}\n' libpython3.11 python3.11-dev python3.11-dbg 2>/dev/null | sort -u | wc -l)
[ "$pyvers" = 1 ] || trio=yes
if [ -n "$trio" ]; then
    trio="libpython3.11 python3.11-dev python3.11-dbg libpython3.11-dbg libpython3.11-stdlib"
fi

# The debug file must match the library actually installed: by build-id.
check_build_id() {
    lib=$(ls /usr/lib/*/libpython3.11.so.1.0 2>/dev/null | head -n 1)
    [ -n "$lib" ] || return 0
    id=$(LC_ALL=C readelf -n "$lib" 2>/dev/null | sed -n 's/.*Build ID: *//p' | head -n 1)
    [ -n "$id" ] || return 0
    dbg=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
    if [ ! -f "$dbg" ]; then
        echo "deps.sh: warning: no debug symbols for $lib (build-id $id): $dbg is missing;" >&2
        echo "  stage 7 will run SIMULATED (see: ministry-tutor --doctor)" >&2
    fi
}

if [ -z "$missing$trio" ]; then
    check_build_id
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "ministry-tutor needs these Debian packages:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing $trio" >&2
    exit 1
fi

echo "deps.sh: installing$missing $trio" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing $trio >/dev/null

pyvers=$(dpkg-query -W -f='${Version}\n' libpython3.11 python3.11-dev python3.11-dbg 2>/dev/null | sort -u | wc -l)
if [ "$pyvers" != 1 ]; then
    echo "deps.sh: libpython3.11, python3.11-dev and python3.11-dbg still differ in version:" >&2
    dpkg-query -W libpython3.11 python3.11-dev python3.11-dbg >&2
    exit 1
fi
check_build_id
