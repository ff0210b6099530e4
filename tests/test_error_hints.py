"""Errors point at the cause: no false second error for a broken manifest's callers, the
nearest existing names for a name that matches nothing, and limits that say their source.

The golden cases callee-with-errors, dependency-did-you-mean and port-name-too-long show
the render messages whole; this file covers explain, syscalls and the rules behind them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cgen

import generator
from generator.errors import ManifestError
from generator.loader import Document
from generator.manifest.contract import CONFIG, MANIFEST, PORT
from generator.schema import AnyOf, Context, List, Map, Obj, Spec, Str
from generator.suggest import close_names, did_you_mean

IMAGE = "registry.example.com/shop/{name}:1.0.0@sha256:" + "0" * 63 + "3"


def manifest(name: str, namespace: str = "shop", extra: str = "") -> str:
    return (
        f"apiVersion: cgen/v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  runtime: python\n  image: {IMAGE.format(name=name)}\n{extra}"
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """front-end calls carts on http; carts listens on http and metrics."""
    (tmp_path / "front-end.yaml").write_text(
        manifest("front-end", extra="  dependencies: [{service: carts, ports: [http]}]\n")
    )
    (tmp_path / "carts.yaml").write_text(
        manifest(
            "carts",
            extra="  ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]\n",
        )
    )
    return tmp_path


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        ("frontend", "carts:http", "no cgen service 'frontend'; did you mean 'front-end'?"),
        ("front-end", "cart:http", "no cgen service 'cart'; did you mean 'carts'?"),
        (
            "shop/frontend",
            "carts",
            "no cgen service 'shop/frontend'; did you mean 'shop/front-end'?",
        ),
        (
            "shpo/front-end",
            "carts",
            "no cgen service 'shpo/front-end'; did you mean 'shop/front-end'?",
        ),
        ("web/carts", "front-end", "no cgen service 'web/carts'; did you mean 'shop/carts'?"),
        (
            "front-end",
            "carts:htp",
            "shop/carts has no port 'htp'; did you mean 'http'? (it has: http, metrics)",
        ),
    ],
)
def test_explain_offers_the_nearest_names(shop: Path, src: str, dst: str, message: str) -> None:
    proc = run_cgen(["explain", src, dst, str(shop)])
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", f"error: {message}\n")


def test_explain_without_a_near_name_says_how_to_write_one(shop: Path) -> None:
    proc = run_cgen(["explain", "front-end", "zzz", str(shop)])
    assert proc.returncode == 1
    assert "no cgen service 'zzz'; other pods are written NAMESPACE[" in proc.stderr


def test_syscalls_offers_the_nearest_service(shop: Path) -> None:
    proc = run_cgen(["syscalls", "--service", "frontend", str(shop)])
    assert proc.returncode == 2
    assert "'frontend' is not among the manifests; did you mean 'front-end'?" in proc.stderr


def _problems(folder: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        generator.validate([folder])
    return [f"{p.keypath}: {p.message}" for p in caught.value.problems]


def test_a_broken_callee_is_pointed_at_whatever_breaks_it(tmp_path: Path) -> None:
    calls = "  dependencies: [{service: cart}, {service: db}, {service: cache, namespace: data}]\n"
    (tmp_path / "web.yaml").write_text(manifest("web", extra=calls))
    # A semantic error, a namespace that is no name, and one in another namespace.
    probe = "  probes: {readiness: {tcp: {port: grpc}}}\n"
    (tmp_path / "cart.yaml").write_text(manifest("cart", extra=probe))
    (tmp_path / "db.yaml").write_text(manifest("db", "Shop"))
    (tmp_path / "cache.yaml").write_text(manifest("cache", "shop", "  replicas: -1\n"))
    problems = [p for p in _problems(tmp_path) if p.startswith("spec.dependencies")]
    folder = tmp_path.as_posix()
    assert problems == [
        f"spec.dependencies[0].service: {folder}/cart.yaml has errors (see its messages), "
        "so 'cart' could not be loaded",
        f"spec.dependencies[1].service: {folder}/db.yaml has errors (see its messages), "
        "so 'db' could not be loaded",
        # cache.yaml declares shop/cache: data/cache is still unknown, and cache is not
        # offered for itself.
        "spec.dependencies[2].service: no manifest defines service 'cache' in namespace "
        "'data'; if cgen does not manage it, declare it under unmanaged: in cgen.yaml "
        "(namespace, podLabels, ports)",
    ]


def test_an_unreadable_file_may_define_the_missing_service(tmp_path: Path) -> None:
    calls = "  dependencies: [{service: cart}]\n"
    (tmp_path / "web.yaml").write_text(manifest("web", extra=calls))
    (tmp_path / "broken.yaml").write_text("apiVersion: [cgen/v1\n")
    (tmp_path / "other.yaml").write_text("\x00")
    problems = [p for p in _problems(tmp_path) if p.startswith("spec.dependencies")]
    folder = tmp_path.as_posix()
    assert problems == [
        "spec.dependencies[0].service: no manifest defines service 'cart' in namespace "
        f"'shop'; {folder}/broken.yaml, {folder}/other.yaml have errors and may define it"
    ]


def test_suggestions_are_nearest_first_and_do_not_depend_on_order() -> None:
    names = ["chart", "card", "cart", "zebra", "carts"]
    assert close_names("carts", names) == ["cart", "chart", "card"]
    assert close_names("carts", reversed(names)) == close_names("carts", names)
    assert did_you_mean("carts", names) == "; did you mean 'cart', 'chart' or 'card'?"
    assert did_you_mean("cart", ["cart", "zebra"]) == ""  # never the name itself
    assert did_you_mean("x", []) == ""
    shown = {"cart": "'cart' (namespace shop)"}
    assert did_you_mean("crat", ["cart"], shown) == "; did you mean 'cart' (namespace shop)?"


def _limits(spec: Spec, keypath: str) -> list[tuple[str, Str]]:
    """Every length-limited string in a contract, with where it sits."""
    if isinstance(spec, Str):
        return [(keypath, spec)] if spec.max_len is not None else []
    children: list[tuple[str, Spec]] = []
    if isinstance(spec, Obj):
        children = [(f"{keypath}.{k}", f.spec) for k, f in spec.fields.items()]
    elif isinstance(spec, List):
        children = [(f"{keypath}[]", spec.item)]
    elif isinstance(spec, Map):
        children = [(f"{keypath}.<key>", spec.key), (f"{keypath}.*", spec.value)]
    elif isinstance(spec, AnyOf):
        children = [(keypath, option) for option in spec.options]
    return [found for path, child in children for found in _limits(child, path)]


def test_every_length_limit_says_where_it_comes_from() -> None:
    limits = _limits(MANIFEST, "") + _limits(CONFIG, "cgen.yaml")
    assert len(limits) > 40
    assert [path for path, spec in limits if not spec.why] == []


def test_a_port_name_limit_names_its_rfc() -> None:
    ctx = Context(Document("web.yaml", None))
    assert not PORT.check({"name": "p" * 16, "port": 80}, "spec.ports[0]", ctx)
    assert [f"{p.keypath}: {p.message}" for p in ctx.problems] == [
        "spec.ports[0].name: must be at most 15 characters "
        "(Kubernetes port names are IANA service names: RFC 6335, IANA_SVC_NAME)"
    ]


def test_own_port_names_come_with_the_nearest_ones(tmp_path: Path) -> None:
    extra = (
        "  ports: [{name: http, port: 8080}, {name: admin, port: 9000}]\n"
        "  probes: {readiness: {tcp: {port: htp}}}\n"
        "  ingress: [{from: {cidr: 10.0.0.0/8}, ports: [admn, 7]}]\n"
        "  peerPorts: [https]\n"
    )
    (tmp_path / "web.yaml").write_text(manifest("web", extra=extra))
    assert _problems(tmp_path) == [
        "spec.probes.readiness.tcp.port: 'htp' is not one of this service's ports; "
        "did you mean 'http'?",
        "spec.ingress[0].ports[0]: 'admn' is not one of this service's ports; "
        "did you mean 'admin'?",
        "spec.ingress[0].ports[1]: 7 is not one of this service's ports",
        "spec.peerPorts[0]: 'https' is not one of this service's ports; did you mean 'http'?",
    ]


def test_an_unknown_runtime_offers_the_nearest_profile(tmp_path: Path) -> None:
    text = manifest("db").replace("runtime: python", "runtime: postgresq")
    (tmp_path / "db.yaml").write_text(text)
    [problem] = _problems(tmp_path)
    assert problem.startswith(
        "spec.runtime: no runtime profile 'postgresq'; did you mean 'postgresql'? (available: "
    )


def test_an_unreadable_file_named_after_the_service_is_its_definer(tmp_path: Path) -> None:
    calls = "  dependencies: [{service: cart}]\n"
    (tmp_path / "web.yaml").write_text(manifest("web", extra=calls))
    (tmp_path / "cart.yaml").write_text(manifest("cart", extra="  replicas: [2\n"))
    (tmp_path / "other.yaml").write_text("apiVersion: [cgen/v1\n")
    problems = [p for p in _problems(tmp_path) if p.startswith("spec.dependencies")]
    assert problems == [
        f"spec.dependencies[0].service: {tmp_path.as_posix()}/cart.yaml has errors "
        "(see its messages), so 'cart' could not be loaded"
    ]


def test_a_near_name_is_offered_instead_of_an_unrelated_broken_file(tmp_path: Path) -> None:
    calls = "  dependencies: [{service: crat}]\n"
    (tmp_path / "web.yaml").write_text(manifest("web", extra=calls))
    (tmp_path / "cart.yaml").write_text(manifest("cart", extra="  ports: [{name: h, port: 80}]\n"))
    (tmp_path / "email.yaml").write_text(manifest("email", extra="  replicas: [2\n"))
    problems = [p for p in _problems(tmp_path) if p.startswith("spec.dependencies")]
    assert problems == [
        "spec.dependencies[0].service: no manifest defines service 'crat' in namespace 'shop'; "
        "did you mean 'cart'?"
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("CAP_NET_ADMIN", "did you mean 'NET_ADMIN'?"),
        ("sys_ptrace", "did you mean 'SYS_PTRACE'?"),
        ("NET_BIND_SERVCE", "did you mean 'NET_BIND_SERVICE'?"),
    ],
)
def test_a_misspelt_capability_names_the_one_meant(
    tmp_path: Path, written: str, message: str
) -> None:
    (tmp_path / "web.yaml").write_text(manifest("web", extra=f"  capabilities: [{written}]\n"))
    assert _problems(tmp_path) == [
        f"spec.capabilities[0]: {written!r} is not a Linux capability without the CAP_ "
        f"prefix; {message}"
    ]


def test_a_misspelt_key_of_cgen_yaml_names_the_one_meant(tmp_path: Path) -> None:
    (tmp_path / "cgen.yaml").write_text("namespce: shop\n")
    (tmp_path / "web.yaml").write_text(manifest("web"))
    [problem] = _problems(tmp_path)
    assert problem.startswith("namespce: unknown key; did you mean 'namespace'? (known keys: ")


def test_a_far_key_or_value_gets_no_guess() -> None:
    ctx = Context(Document("web.yaml", None))
    PORT.check({"name": "http", "port": 80, "hostPort": 80, "protocol": "QUIC"}, "p", ctx)
    assert [p.message for p in ctx.problems] == [
        "unknown key (known keys: name, port, servicePort, protocol, scrape, container)",
        "must be one of TCP, UDP, SCTP",
    ]


def test_a_misspelt_dependency_namespace_is_reported_at_that_key(tmp_path: Path) -> None:
    calls = (
        "  dependencies:\n"
        "    - {service: cart, namespace: shopp}\n"
        "    - {service: cart, namespace: data}\n"
        "    - {service: cache, namespace: data}\n"
    )
    (tmp_path / "web.yaml").write_text(manifest("web", "data", extra=calls))
    (tmp_path / "cart.yaml").write_text(manifest("cart", extra="  ports: [{name: h, port: 80}]\n"))
    assert _problems(tmp_path) == [
        "spec.dependencies[0].namespace: no namespace 'shopp' has cgen services; "
        "did you mean 'shop'?",
        "spec.dependencies[1].namespace: no manifest defines service 'cart' in namespace "
        "'data'; it exists in namespace shop",
        # Nothing near in any namespace: the name is the likelier mistake, or unmanaged.
        "spec.dependencies[2].service: no manifest defines service 'cache' in namespace "
        "'data'; if cgen does not manage it, declare it under unmanaged: in cgen.yaml "
        "(namespace, podLabels, ports)",
    ]


@pytest.mark.parametrize("ports", ["", ", ports: [http]"])
def test_explain_says_a_dependency_without_ports_misses_a_scrape_only_port(
    tmp_path: Path, ports: str
) -> None:
    scraper = "metricsScraper: {namespace: monitoring, podLabels: {app: prometheus}}\n"
    (tmp_path / "cgen.yaml").write_text(scraper)
    calls = f"  dependencies: [{{service: carts{ports}}}]\n"
    (tmp_path / "front-end.yaml").write_text(manifest("front-end", extra=calls))
    listens = "  ports: [{name: http, port: 8080}, {name: metrics, port: 9090, scrape: true}]\n"
    (tmp_path / "carts.yaml").write_text(manifest("carts", extra=listens))
    proc = run_cgen(["explain", "front-end", "carts:metrics", str(tmp_path)])
    assert proc.stdout.startswith("DENIED shop/front-end -> shop/carts port metrics\n")
    note = (
        "  metrics is scrape-only (scrape: true, named by no probe, ingress or peerPorts): a "
        "dependency without ports reaches only the application ports; name it in ports: to "
        f"reach it ({tmp_path.as_posix()}/front-end.yaml:7:18 spec.dependencies[0])\n"
    )
    # A dependency that names its ports chose them: nothing to explain about defaults.
    assert proc.stdout.endswith(note) is (ports == "")


@pytest.mark.parametrize(
    ("dst", "what"),
    [("10.0.0.300", "IP address"), ("10.0.0.300:80", "IP address"), ("10.0.0.0/33", "IP network")],
)
def test_explain_calls_a_mistyped_address_one(shop: Path, dst: str, what: str) -> None:
    proc = run_cgen(["explain", "front-end", dst, str(shop)])
    typed = dst.removesuffix(":80")
    message = f"{typed!r} is not a valid {what}: addresses are written as 203.0.113.7, networks"
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == f"error: {message} as 10.0.0.0/8\n"


def test_a_type_error_in_env_does_not_hide_the_other_entries_problems(tmp_path: Path) -> None:
    env = (
        "  env: {PORT: 8080, API_TOKEN: abc, DB: 'postgres://u:hunter2@db/x'}\n"
        "  sidecars: [{name: proxy, runtime: static, image: 'registry.example.com/p:1',\n"
        "              env: {SECRET_KEY: x}}]\n"
    )
    (tmp_path / "web.yaml").write_text(manifest("web", extra=env))
    found = _problems(tmp_path)
    assert found[0] == "spec.env.PORT: must be a string, not a number (quote it)"
    assert [p.split(":")[0] for p in found[1:]] == [
        "spec.env.API_TOKEN",
        "spec.env.DB",
        "spec.sidecars[0].env.SECRET_KEY",
    ]
    assert "API_TOKEN looks like a secret by its name: secrets stay files, never" in found[1]


def test_a_repeated_port_is_one_error_when_no_service_port_was_written(tmp_path: Path) -> None:
    ports = (
        "  ports:\n"
        "    - {name: http, port: 8080}\n"
        "    - {name: admin, port: 9000, servicePort: 80}\n"
        "    - {name: http, port: 8080}\n"
        "    - {name: web, port: 80}\n"
        "    - {name: alt, port: 81, servicePort: 80}\n"
    )
    (tmp_path / "web.yaml").write_text(manifest("web", extra=ports))
    assert _problems(tmp_path) == [
        "spec.ports[2].name: repeats the name of spec.ports[0]",
        "spec.ports[2].port: repeats 8080/TCP of spec.ports[0]",
        "spec.ports[3].port: is also the servicePort of spec.ports[1]; give this port a "
        "servicePort of its own",
        "spec.ports[4].servicePort: repeats the servicePort of spec.ports[1]",
    ]


def test_a_cgen_manifest_under_a_kubernetes_api_version_is_not_called_kubernetes_yaml(
    tmp_path: Path,
) -> None:
    (tmp_path / "web.yaml").write_text(manifest("web").replace("cgen/v1", "v1"))
    assert _problems(tmp_path) == ["apiVersion: must be 'cgen/v1'"]
