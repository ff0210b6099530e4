#!/usr/bin/env bash
# Extra tools for the Dockerfile build and pin tests (tests/test_build_*.py,
# tests/test_pin*.py), beyond tests/tools/install.sh (which brings podman, buildah,
# skopeo, docker-registry, runc, golang-go and the linters).
#
# The build tests make their base images from the host's own runtimes, so they need
# Debian's CPython 3.11 (binary + standard library in /usr/lib/python3.11), Debian's pip
# wheel (copied into the build base), node with its bundled npm (preinstalled here), ldd
# (libc-bin) to find shared libraries, and nsenter (util-linux) to probe a container
# that has no network of its own.
#
# Idempotent: installs only what dpkg does not list as installed.
set -euo pipefail

APT_PACKAGES=(python3.11 python3-pip-whl libc-bin util-linux)

log() { printf '[install-build] %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
    log "apt: all ${#APT_PACKAGES[@]} packages present"
else
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# Checks that fail early with a clear message rather than deep inside a test.
for tool in podman skopeo docker-registry go node npm nsenter ldd; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool: run tests/tools/install.sh first"; exit 1; }
done
npm_cli="$(readlink -f "$(command -v npm)")"
case "$npm_cli" in
    */npm/bin/npm-cli.js) log "npm: bundled with node ($npm_cli)" ;;
    *) log "npm at $npm_cli is not a self-contained npm package; install node with its own npm"; exit 1 ;;
esac
ls /usr/share/python-wheels/pip-*.whl >/dev/null
log "done"
