"""Mutation fuzzing of cgen projects: every input ends accepted (with output that parses
and that Kubernetes would accept) or refused (a CgenError); anything else is a crash.

    python tests/tools/fuzz.py [--cases N] [--seed S] [--show K]

prints accepted/refused/crashed/invalid counts; exit 1 when any case crashed or wrote
output a reader would refuse. tests/test_fuzz.py runs the same engine under hypothesis.
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import json
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "@sha256:" + "ab" * 32
CONFIG: dict[str, Any] = {
    "namespace": "shop",
    "podCidrs": ["10.0.0.0/8"],
    "serviceCidrs": ["10.96.0.0/12"],
    "formats": ["kubernetes", "terraform"],
    "ingressController": {"namespace": "ingress", "podLabels": {"app": "ingress"}},
}
API: dict[str, Any] = {
    "apiVersion": "cgen/v1",
    "kind": "Service",
    "metadata": {"name": "api", "namespace": "shop", "labels": {"tier": "web"}},
    "spec": {
        "runtime": "python",
        "image": "registry.example.com/shop/api:1.0.0" + DIGEST,
        "replicas": 2,
        "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}],
        "dependencies": [
            {"service": "db", "ports": ["sql"]},
            {"cidr": "0.0.0.0/0", "ports": [443]},
            {"host": "api.example.com", "cidrs": ["203.0.113.0/24"], "ports": [443]},
        ],
        "ingress": [
            {"from": "ingress-controller", "ports": ["http"]},
            {"from": {"cidr": "192.0.2.0/24"}, "ports": ["http"]},
        ],
        "writablePaths": ["/tmp"],
        "secrets": [{"secret": "api-db", "mountPath": "/var/run/secrets/db"}],
        "probes": {"readiness": {"http": {"path": "/healthz", "port": "http"}}},
        "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}},
    },
}
DB: dict[str, Any] = {
    "apiVersion": "cgen/v1",
    "kind": "Service",
    "metadata": {"name": "db", "namespace": "shop"},
    "spec": {
        "runtime": "go",
        "image": "registry.example.com/shop/db:2" + DIGEST,
        "ports": [{"name": "sql", "port": 5432}],
    },
}
SEED = {"cgen.yaml": CONFIG, "api.yaml": API, "db.yaml": DB}

# Values that broke something once, or sit at a limit.
STRINGS = [
    "", "a", "a" * 63, "a" * 64, "b" * 254 + "/x", "A B", "-a", "a-", "1e3", "0x1f", "0o17",
    "true", "null", "~", "::ffff:169.254.169.254/128", "::ffff:0.0.0.0/96", "::/0",
    "0.0.0.0/0", "169.254.169.254/32", "10.1.0.0/16", "fe80::%eth0/64", "010.0.0.0/8",
    "2001:DB8::/32", "10.0.0.1/8", "/proc", "/proc/self", "/sys", "/dev/shm", "/etc", "/",
    "/tmp/../proc", "/a//b", "a/../b", "..", "/var/run/secrets/kubernetes.io/x", "x\x01y",
    "x\u2028y", "x\u202ey", "\ufeff", "a\nb", "a: b", "{{ 7*7 }}", "${HOME}", "%{x}", "\\",
    '"', "'", "#x", "NET_ADMIN", "SYS_ADMIN", "ingress-controller", "metrics-scraper", "http",
    "sql", "UDP", "SCTP", "TCP", "python", "go", "static", "docker.io/x:1", "x:1" + DIGEST,
    "1Gi", "100m", "0", "99999999999Gi", "é" * 70, "api.example.com", "a." * 130,
]  # fmt: skip
NUMBERS = [0, -1, 1, 53, 443, 1023, 1024, 65535, 65536, 9999, 10000, 2**31, 2**63, 10**30]
TEXT_NOISE = [
    "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\t", "\r", "\n", " ", ":",
    "- ", "{", "}", "[", "]", ",", "&a ", "*a", "!!float ", "!!binary ", "!!int ", "!!set ",
    "!!python/object:os.system ", "<<: ", "? ", "|", ">", "'", '"', "%YAML 1.1\n", "---\n",
    "...\n", "#", "@", "`", "\\", "é", "\U0001f600", "[" * 80, "{a: " * 70,
]  # fmt: skip


# Values of the right kind for a key: most edits keep a project loadable, so the output
# checks see many accepted projects, not only refusals.
PLAUSIBLE: dict[str, list[Any]] = {
    "cidr": ["0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96", "::ffff:10.0.0.0/104", "10.0.0.0/8",
             "169.254.0.0/16", "::ffff:169.254.169.254/128", "2001:db8::/32", "192.0.2.7/32",
             "fd00:ec2::/64", "0.0.0.0/1"],
    "path": ["/tmp", "/var/cache/x", "/data", "/etc/app", "/devices", "/run/x", "/home/a b"],
    "name": ["a", "web", "a" * 63, "x-1", "api", "db", "e10", "null", "true"],
    "number": [1, 80, 443, 1024, 8080, 9090, 10000, 65000, 65535],
    "label": ["a", "app", "example.com/tier", "a.b/c_d", "x" * 63, "0", "1e3", "true"],
}  # fmt: skip
KEY_KINDS = {
    "cidr": "cidr", "cidrs": "cidr", "except": "cidr", "podCidrs": "cidr",
    "serviceCidrs": "cidr", "egressExcept": "cidr", "writablePaths": "path",
    "mountPath": "path", "name": "name", "namespace": "name", "secret": "name",
    "service": "name", "port": "number", "servicePort": "number", "replicas": "number",
    "labels": "label", "podLabels": "label", "tier": "label",
}  # fmt: skip


class Mutator:
    """Random edits of a project's data or text, drawn from one random source."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def value(self, depth: int = 0) -> Any:
        """A value of any shape, mostly from the lists above."""
        kind = self.rnd.randrange(9 if depth < 2 else 6)
        if kind <= 2:
            return self.rnd.choice(STRINGS)
        if kind == 3:
            return self.rnd.choice(NUMBERS)
        if kind == 4:
            return self.rnd.choice([None, True, False, 1.5, float("inf"), float("nan")])
        if kind == 5:
            return self.rnd.choice(STRINGS) + self.rnd.choice(STRINGS)
        if kind in (6, 7):
            return [self.value(depth + 1) for _ in range(self.rnd.randrange(3))]
        return {self.rnd.choice(STRINGS): self.value(depth + 1) for _ in range(2)}

    def data(self, doc: Any) -> Any:
        """One structural edit somewhere in doc: replace, delete, add, duplicate or rename."""
        nodes = _containers(doc)
        known = [(n, k) for n in nodes if isinstance(n, dict) for k in n if k in KEY_KINDS]
        if known and self.rnd.random() < 0.6:
            node, key = self.rnd.choice(known)
            node[key] = self.plausible(key, node[key])
            return doc
        parent = self.rnd.choice(nodes)
        # Mostly replacements by a value of the key's kind, so that many edits load.
        op = self.rnd.choice([0, 1, 2, 3, 3, 3, 3, 3])
        if isinstance(parent, dict):
            keys = list(parent)
            if op == 0 or not keys:
                parent[self.rnd.choice([*STRINGS, *_KNOWN_KEYS])] = self.value()
            elif op == 1:
                del parent[self.rnd.choice(keys)]
            elif op == 2:
                key = self.rnd.choice(keys)
                parent[self.rnd.choice(_KNOWN_KEYS)] = parent.pop(key)
            else:
                key = self.rnd.choice(keys)
                parent[key] = self.plausible(key, parent[key])
        elif isinstance(parent, list):
            if op == 0 or not parent:
                parent.append(self.value())
            elif op == 1:
                parent.pop(self.rnd.randrange(len(parent)))
            elif op == 2:
                parent.append(json.loads(json.dumps(self.rnd.choice(parent))))
            else:
                parent[self.rnd.randrange(len(parent))] = self.value()
        return doc

    def plausible(self, key: str, old: Any) -> Any:
        """A value of the kind key holds (keeping lists lists), else any value."""
        kind = KEY_KINDS.get(key)
        if kind is None or self.rnd.random() < 0.2:
            return self.value()
        pool = PLAUSIBLE[kind]
        if isinstance(old, list):
            return [self.rnd.choice(pool) for _ in range(self.rnd.randrange(1, 3))]
        if isinstance(old, dict):
            return {str(self.rnd.choice(pool)): str(self.rnd.choice(pool))}
        return self.rnd.choice(pool)

    def text(self, text: str) -> str:
        """One edit of the YAML text: insert, replace or delete a few characters."""
        at = self.rnd.randrange(len(text) + 1)
        noise = self.rnd.choice(TEXT_NOISE)
        op = self.rnd.randrange(3)
        if op == 0:
            return text[:at] + noise + text[at:]
        if op == 1:
            return text[:at] + noise + text[at + len(noise) :]
        return text[:at] + text[at + self.rnd.randrange(1, 8) :]

    def project(self) -> dict[str, str]:
        """The seed project with one to three edits, as file name -> text."""
        docs = json.loads(json.dumps(SEED))
        texts: dict[str, str] = {}
        edits = self.rnd.randrange(1, 4)
        targets = [self.rnd.choice(list(SEED)) for _ in range(edits)]
        text_edits = {t for t in targets if self.rnd.random() < 0.15}
        for name in targets:
            if name not in text_edits:
                docs[name] = self.data(docs[name])
        for name, doc in docs.items():
            texts[name] = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)
        for name in text_edits:
            texts[name] = self.text(texts[name])
        return texts


_KNOWN_KEYS = [
    "name", "namespace", "labels", "runtime", "image", "replicas", "user", "ports", "port",
    "servicePort", "protocol", "scrape", "dependencies", "service", "host", "cidr", "cidrs",
    "ingress", "from", "except", "podLabels", "capabilities", "syscalls", "writablePaths",
    "secrets", "secret", "mountPath", "probes", "resources", "build", "seccomp", "mode",
    "localhostPrefix", "egressExcept", "dialect", "formats", "writableSizeLimit", "dns",
    "nodeLocal", "metricsScraper", "registryMirrors", "createNamespaces", "entrypoint",
]  # fmt: skip


def _containers(doc: Any) -> list[Any]:
    found: list[Any] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            found.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return found


# ------------------------------------------------------------------ running one case


def write_project(folder: Path, texts: dict[str, str]) -> None:
    """The project's files (and the shop's image lock) in an emptied folder."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "shop" / "images.lock", folder / "images.lock")
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")


def run_case(folder: Path, texts: dict[str, str], oracle: Callable[[str, str], list[str]]) -> str:
    """'accepted', 'refused', 'invalid: ...' (output a reader refuses) or 'crashed: ...'."""
    import generator
    from generator.errors import CgenError

    write_project(folder, texts)
    try:
        project, _ = generator.load([folder])
        artifacts = generator.build(project)
    except CgenError:
        return "refused"
    except Exception:
        return "crashed: " + traceback.format_exc(limit=-3)
    problems = [p for art in artifacts for p in oracle(art.path, art.content)]
    return "invalid: " + "; ".join(problems[:3]) if problems else "accepted"


# ------------------------------------------------------------------ what readers accept

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
_K8S_CACHE: dict[str, list[str]] = {}


def _subdomain(text: str) -> bool:
    return len(text) <= 253 and all(_DNS_LABEL.fullmatch(p) for p in text.split("."))


def _label_problems(labels: Any) -> list[str]:
    problems = []
    for key, value in (labels or {}).items():
        prefix, _, name = str(key).rpartition("/")
        if not _LABEL_NAME.fullmatch(name) or (prefix and not _subdomain(prefix)):
            problems.append(f"label key {key!r}")
        if value and not _LABEL_NAME.fullmatch(str(value)):
            problems.append(f"label value {value!r}")
    return problems


def _walk(node: Any, key: str) -> list[Any]:
    """Every value stored under key anywhere in node."""
    found = []
    for parent in _containers(node):
        if isinstance(parent, dict) and key in parent:
            found.append(parent[key])
    return found


def _api_formats(obj: dict[str, Any]) -> list[str]:
    """Formats the API server checks that the OpenAPI schema does not (names, labels,
    CIDRs, mount points, seccomp paths): written here from the Kubernetes docs, not cgen."""
    meta = obj.get("metadata") or {}
    name, kind = str(meta.get("name", "")), obj.get("kind")
    problems = []
    if kind == "Service" and not _DNS_1035.fullmatch(name):
        problems.append(f"Service name {name!r}")
    elif not _subdomain(name):
        problems.append(f"name {name!r}")
    namespace = meta.get("namespace")
    if namespace is not None and not _DNS_LABEL.fullmatch(str(namespace)):
        problems.append(f"namespace {namespace!r}")
    for labels in [*_walk(obj, "labels"), *_walk(obj, "matchLabels")]:
        problems += _label_problems(labels)
    for block in _walk(obj, "ipBlock"):
        problems += _ipblock_problems(block)
    for path in _walk(obj, "mountPath"):
        if re.match(r"/(proc|sys|dev)(/|$)", str(path)) or path in ("/", "/etc"):
            problems.append(f"mountPath {path}")
    for profile in _walk(obj, "localhostProfile"):
        if ".." in str(profile).split("/") or str(profile).startswith("/"):
            problems.append(f"localhostProfile {profile}")
    return problems


def _ipblock_problems(block: dict[str, Any]) -> list[str]:
    problems = []
    try:
        net = ipaddress.ip_network(block["cidr"])
        if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped:
            problems.append(f"IPv4-mapped cidr {net}")
        for text in block.get("except", []):
            other = ipaddress.ip_network(text)
            if other.version != net.version or other == net or not other.subnet_of(net):  # type: ignore[arg-type]
                problems.append(f"except {text} not inside {net}")
    except ValueError as exc:
        problems.append(f"ipBlock {exc}")
    return problems


def check_output(path: str, content: str) -> list[str]:
    """Why a reader would refuse one generated file (empty when every reader accepts it)."""
    sys.path.insert(0, str(ROOT / "tests"))
    oracles = importlib.import_module("oracles")  # the suite's helper: validates strictly

    try:
        if path.endswith(".json"):
            json.loads(content)
            return []
        if path.endswith(".tf"):
            import hcl2

            hcl2.loads(content)
            return []
        if not path.endswith(".yaml"):
            return []
        docs = [d for d in yaml.safe_load_all(content) if d is not None]
    except Exception as exc:  # any parser failure is the finding
        return [f"{path}: does not parse: {type(exc).__name__}: {exc}"[:300]]
    problems = []
    for doc in docs:
        if not isinstance(doc, dict) or "kustomize" in str(doc.get("apiVersion", "")):
            continue
        key = json.dumps(doc, sort_keys=True)
        if key not in _K8S_CACHE:
            _K8S_CACHE[key] = oracles.k8s_validate(doc) + _api_formats(doc)
        problems += [f"{path}: {p}" for p in _K8S_CACHE[key]]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=5, help="failing inputs to print")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    rnd = random.Random(args.seed)
    counts: Counter[str] = Counter()
    shown = 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cgen-fuzz-") as scratch:
        folder = Path(scratch) / "proj"
        for case in range(1, args.cases + 1):
            texts = Mutator(rnd).project()
            outcome = run_case(folder, texts, check_output)
            counts[outcome.split(":")[0]] += 1
            if outcome.startswith(("crashed", "invalid")) and shown < args.show:
                shown += 1
                print(f"case {case}: {outcome}\n{json.dumps(texts, ensure_ascii=True)}\n")
            if case % 1000 == 0:
                print(f"{case} cases, {dict(counts)}, {time.monotonic() - start:.0f} s", flush=True)
    elapsed = time.monotonic() - start
    print(
        f"cases={args.cases} accepted={counts['accepted']} refused={counts['refused']} "
        f"crashed={counts['crashed']} invalid={counts['invalid']} seconds={elapsed:.0f}"
    )
    return 1 if counts["crashed"] or counts["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
