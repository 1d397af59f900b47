#!/bin/sh
# deps.sh — install the Debian packages ministry-tutor needs, only if missing.
#
# Usage: scripts/deps.sh [build|check|bench]
#   build  what `make` and `make run` need
#   check  also what `make check` needs (tmux, xmllint, rsvg-convert, clang)
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
libelf-dev libdw-dev pkg-config"
case $want in
build) ;;
check) pkgs="$pkgs check tmux libxml2-utils librsvg2-bin clang libclang-rt-14-dev" ;;
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
pyvers=$(dpkg-query -W -f='${Version}\n' libpython3.11 python3.11-dev python3.11-dbg 2>/dev/null | sort -u | wc -l)
trio=
if [ "$pyvers" != 1 ]; then
    trio="libpython3.11 python3.11-dev python3.11-dbg libpython3.11-dbg python3.11 libpython3.11-stdlib python3.11-minimal libpython3.11-minimal"
fi

[ -z "$missing$trio" ] && exit 0

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
