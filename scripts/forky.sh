#!/bin/sh
# forky.sh — `make check` inside a Debian forky root, for the CPythons forky
# ships (3.13, 3.14, 3.15): what `make check-forky` runs.
#
# Usage: scripts/forky.sh ROOT BUILD [MIRROR]
#   ROOT    the root, made with debootstrap the first time and kept (cached
#           under build/: `make clean` removes it)
#   BUILD   the build folder for the root's objects, at the top of the tree
#           (beside build/, so the binaries find lessons/ as in a build tree)
#   MIRROR  the Debian mirror (default: the URIs: line of the host's
#           /etc/apt/sources.list.d/debian.sources, else deb.debian.org)
#
# Runs as root (debootstrap, chroot, mounts).  The mounts (/proc, /dev and
# the source tree on ROOT/src) are made in a mount namespace of their own,
# so they go when the run ends, however it ends.
set -eu

root=${1:?ROOT}
build=${2:?BUILD}
mirror=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$mirror" ]; then
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
    mirror=${mirror%% *}
fi
mirror=${mirror:-http://deb.debian.org/debian}

if [ "$(id -u)" != 0 ]; then
    echo "forky.sh: debootstrap and chroot need root: sudo make check-forky" >&2
    exit 1
fi
for tool in debootstrap unshare chroot; do
    if ! command -v "$tool" >/dev/null; then
        echo "forky.sh: $tool is missing: apt-get install debootstrap util-linux" >&2
        exit 1
    fi
done

start=$(date +%s)
if [ ! -f "$root/.ministry-ready" ]; then
    echo "forky.sh: building a Debian forky root in $root from $mirror" >&2
    rm -rf "$root"
    mkdir -p "$root"
    # bookworm's debootstrap has no forky script; sid's bootstraps it.
    debootstrap --variant=minbase forky "$root" "$mirror" \
        /usr/share/debootstrap/scripts/sid >"$root.log" 2>&1 || {
        echo "forky.sh: debootstrap failed (see $root.log)" >&2
        exit 1
    }
    # The mirror may be a dated snapshot: its Release files have expired.
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99ministry"
    mkdir -p "$root/src"
    touch "$root/.ministry-ready"
    echo "forky.sh: root ready in $(($(date +%s) - start)) s" >&2
fi

# In a mount namespace of our own: proc, the host's /dev (ptys for tmux
# and script), the source tree; then the project's own set-up and tests.
export FORKY_ROOT="$root" FORKY_SRC="$src" FORKY_BUILD="$build"
unshare --mount --propagation private sh -eu -c '
    mount -t proc proc "$FORKY_ROOT/proc"
    mount --rbind /dev "$FORKY_ROOT/dev"
    mount --bind "$FORKY_SRC" "$FORKY_ROOT/src"
    exec chroot "$FORKY_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-xterm}" sh -eu -c "
        cd /src
        scripts/deps.sh forky
        make --no-print-directory -j2 check BUILD=$FORKY_BUILD FUZZ_SECONDS=0 DEPS_SET=forky"
'
echo "forky.sh: make check in forky took $(($(date +%s) - start)) s" >&2
