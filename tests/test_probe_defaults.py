"""Readiness and liveness differ by default: readiness asks often whether the pod may serve
and gives up fast; liveness asks only whether the process is still there, with a long
failure budget, so load alone takes a pod out of rotation but does not restart it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import generator

DIGEST = "sha256:" + "0" * 63 + "1"
HEAD = """apiVersion: cgen/v1
kind: Service
metadata: {name: api, namespace: team}
spec:
  runtime: go
  image: registry.example.com/team/api:1.0.0@DIGEST
  ports: [{name: http, port: 8080}, {name: admin, port: 9000}]
""".replace("DIGEST", DIGEST)


def _container(tmp_path: Path, extra: str = "") -> dict[str, Any]:
    (tmp_path / "api.yaml").write_text(HEAD + extra, encoding="utf-8")
    project, _ = generator.load([tmp_path], allow_unpinned=True)
    artifacts = {a.path: a.content for a in generator.build(project)}
    deployment = yaml.safe_load(artifacts["team/api/deployment.yaml"])
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _identical_to_kube_score(ready: dict[str, Any], live: dict[str, Any]) -> bool:
    """kube-score's pod-probes-identical rule: the same handler on the same port as
    written (and path); timings are not compared."""
    for handler in ("tcpSocket", "httpGet"):
        if handler in ready and handler in live:
            return bool(ready[handler] == live[handler])
    return False


def test_default_probes_differ_in_budget_and_as_written(tmp_path: Path) -> None:
    container = _container(tmp_path)
    ready, live = container["readinessProbe"], container["livenessProbe"]
    assert ready == {"tcpSocket": {"port": "http"}, "periodSeconds": 5, "failureThreshold": 2}
    # The same socket (http is 8080), asked rarely, after a delay, with many more misses.
    assert live["tcpSocket"] == {"port": 8080}
    assert live["initialDelaySeconds"] > 0
    assert live["periodSeconds"] > ready["periodSeconds"]
    assert live["failureThreshold"] > ready["failureThreshold"]
    budget = live["periodSeconds"] * live["failureThreshold"]
    assert budget >= 10 * ready["periodSeconds"] * ready["failureThreshold"]
    assert not _identical_to_kube_score(ready, live)


def test_default_liveness_checks_the_port_readiness_checks(tmp_path: Path) -> None:
    probes = "  probes:\n    readiness: {http: {path: /ready, port: admin}}\n"
    container = _container(tmp_path, probes)
    assert container["readinessProbe"] == {"httpGet": {"path": "/ready", "port": "admin"}}
    assert container["livenessProbe"]["tcpSocket"] == {"port": 9000}


def test_a_declared_liveness_that_repeats_readiness_is_a_warning(tmp_path: Path) -> None:
    probes = (
        "  probes:\n"
        "    readiness: {tcp: {port: http}}\n"
        "    liveness: {tcp: {port: 8080}, periodSeconds: 30}\n"
    )
    (tmp_path / "api.yaml").write_text(HEAD + probes, encoding="utf-8")
    (warning,) = [str(w) for w in generator.validate([tmp_path]) if "readiness" in str(w)]
    assert warning.startswith(f"{tmp_path / 'api.yaml'}:10:21: spec.probes.liveness.tcp: checks")
    declared = "    liveness: {http: {path: /live, port: http}}\n"
    (tmp_path / "api.yaml").write_text(
        HEAD + probes.replace(probes.splitlines()[-1] + "\n", declared)
    )
    assert not [w for w in generator.validate([tmp_path]) if "readiness" in str(w)]


def test_a_grpc_liveness_that_asks_what_readiness_asks_is_a_warning(tmp_path: Path) -> None:
    def warned(ready: str, live: str) -> list[str]:
        probes = f"  probes:\n    readiness: {ready}\n    liveness: {live}\n"
        (tmp_path / "api.yaml").write_text(HEAD + probes, encoding="utf-8")
        return [str(w) for w in generator.validate([tmp_path]) if "readiness" in str(w)]

    # The same port (by name and by number) and the same service name, or none on both.
    (warning,) = warned("{grpc: {port: http}}", "{grpc: {port: 8080}, periodSeconds: 30}")
    assert warning.startswith(f"{tmp_path / 'api.yaml'}:10:22: spec.probes.liveness.grpc: checks")
    named = "{grpc: {port: http, service: api.v1}}"
    assert len(warned(named, named.replace("http", "8080"))) == 1
    # Another service name or another port asks something else.
    assert warned(named, "{grpc: {port: http, service: api.v1.Live}}") == []
    assert warned("{grpc: {port: http}}", named) == []
    assert warned("{grpc: {port: http}}", "{grpc: {port: admin}}") == []
