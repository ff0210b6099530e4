"""`cgen init`: a manifest from a source folder that validates, for each runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import run_cgen

import generator

# Project files of each runtime, with the smallest lock file that locks what it names.
NPM_LOCK = '{"name": "x", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "x"}}}'
NUGET_LOCK = '{"version": 1, "dependencies": {"net8.0": {}, "net8.0/linux-x64": {}}}'
SOURCES = {
    "python": {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "requirements.txt": "# no packages\n",
        "app/__main__.py": "",  # the package the python profile ships (appFiles)
    },
    "node": {
        "package.json": '{"name": "x"}\n',
        "package-lock.json": NPM_LOCK + "\n",
        "server.js": "",  # the entry point the node profile ships (appFiles)
    },
    "go": {"go.mod": "module example.com/x\n\ngo 1.22\n", "go.sum": ""},
    "dotnet": {"x.csproj": "<Project/>\n", "packages.lock.json": NUGET_LOCK + "\n"},
    "java": {"pom.xml": "<project/>\n", ".mvn/checksums/checksums-central.sha512": ""},
    "static": {
        "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n',
        "Cargo.lock": 'version = 3\n\n[[package]]\nname = "x"\nversion = "0.1.0"\n',
    },
}


def _source(folder: Path, files: dict[str, str], dockerfile: str | None = None) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    if dockerfile is not None:
        (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    return folder


@pytest.mark.parametrize("runtime", sorted(SOURCES))
def test_init_detects_the_runtime_and_the_manifest_validates(tmp_path: Path, runtime: str) -> None:
    source = _source(tmp_path / "my-svc", SOURCES[runtime], "FROM scratch\nEXPOSE 8080\n")
    out = tmp_path / "services" / "my-svc.yaml"
    proc = run_cgen(["init", str(source), "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert f"runtime {runtime}" in proc.stdout
    # No lock beside it: the base images take the pins cgen ships, and init says so.
    assert "no images.lock here" in proc.stdout and "cgen pin --offline" in proc.stdout
    project, _ = generator.load([out])
    assert project.image_lock.shipped
    (svc,) = project.services
    assert (svc.name, svc.runtime, svc.namespace) == ("my-svc", runtime, "my-svc")
    assert [(p.name, p.port) for p in svc.ports] == [("http", 8080)]
    assert svc.build_context is not None
    assert (out.parent / svc.build_context).resolve() == source.resolve()
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert "dependencies" not in data["spec"]  # optional fields stay comments
    assert "# dependencies:" in out.read_text(encoding="utf-8")


def test_ports_from_flags_win_over_expose(tmp_path: Path) -> None:
    source = _source(tmp_path / "dns", SOURCES["go"], "EXPOSE 8080\n")
    out = tmp_path / "dns.yaml"
    args = ["init", str(source), "-o", str(out), "--port", "dns=53/udp", "--port", "metrics=9090"]
    proc = run_cgen(args)
    assert proc.returncode == 0, proc.stderr
    project, _ = generator.load([out], allow_unpinned=True)
    assert [(p.name, p.port, p.protocol) for p in project.services[0].ports] == [
        ("dns", 53, "UDP"),
        ("metrics", 9090, "TCP"),
    ]
    # A low port needs no capability: the pod's sysctl lets the non-root user bind it.
    assert project.services[0].capabilities == ()
    assert "net.ipv4.ip_unprivileged_port_start" in proc.stdout


def test_a_missing_lock_file_is_named_with_how_to_make_it(tmp_path: Path) -> None:
    source = _source(tmp_path / "web", {"package.json": "{}\n"})
    out = tmp_path / "web.yaml"
    proc = run_cgen(["init", str(source), "-o", str(out)])
    assert proc.returncode == 0
    assert "missing package-lock.json" in proc.stdout and "npm" in proc.stdout
    check = run_cgen(["validate", str(out)])
    assert check.returncode == 1 and "package-lock.json" in check.stderr


def test_missing_app_files_are_named_with_the_field_that_names_others(tmp_path: Path) -> None:
    # No start script, no main, no server.js or index.js: nothing tells what runs.
    files = {k: v for k, v in SOURCES["node"].items() if k != "server.js"}
    source = _source(tmp_path / "web", {**files, "app/start.js": ""})
    out = tmp_path / "web.yaml"
    proc = run_cgen(["init", str(source), "-o", str(out)])
    assert proc.returncode == 0
    assert "missing server.js" in proc.stdout and "build.appFiles" in proc.stdout
    check = run_cgen(["validate", str(out)])
    assert check.returncode == 1 and "spec.build.appFiles" in check.stderr


def test_init_never_overwrites(tmp_path: Path) -> None:
    source = _source(tmp_path / "api", SOURCES["python"])
    out = tmp_path / "api.yaml"
    out.write_text("mine\n", encoding="utf-8")
    proc = run_cgen(["init", str(source), "-o", str(out)])
    assert proc.returncode == 1 and "never overwrites" in proc.stderr
    assert out.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(
    ("files", "args", "message", "code"),
    [
        ({}, [], "no project file tells the runtime", 1),
        ({"go.mod": "", "package.json": "{}"}, [], "the project files disagree", 1),
        ({"go.mod": ""}, ["--runtime", "cobol"], "no runtime profile 'cobol'", 2),
        ({"go.mod": ""}, ["--port", "http"], "--port: 'http'", 2),
        ({"go.mod": ""}, ["--name", "Not_A_Label"], "not a DNS-1123 label", 2),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, files: dict[str, str], args: list[str], message: str, code: int
) -> None:
    source = _source(tmp_path / "svc", files)
    source.mkdir(exist_ok=True)
    out = tmp_path / "svc.yaml"
    proc = run_cgen(["init", str(source), "-o", str(out), *args])
    assert proc.returncode == code and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
