"""`cgen init` on common source layouts: what runs, what ships, the lock and the namespace.

Each manifest init writes is checked by `cgen validate`: it passes when the source has
its lock, and otherwise fails only with the lock message that init announced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import run_cgen

HASH = "sha256:" + "4a" * 32
HASHED = f"flask==3.0.0 \\\n    --hash={HASH}\n"
NPM_LOCK = json.dumps(
    {"name": "x", "lockfileVersion": 3, "requires": True, "packages": {"": {"name": "x"}}}
)
LAYOUTS: dict[str, dict[str, str]] = {
    "python-app-py": {
        "requirements.txt": HASHED,
        "app.py": "import os\nfrom flask import Flask\nimport settings\n",
        "settings.py": "from helpers.text import clean\n",
        "helpers/__init__.py": "",
        "helpers/text.py": "",
        "test_app.py": "import app\n",  # not imported by the app: never shipped
    },
    "python-package": {
        "requirements.txt": HASHED,
        "shop/__init__.py": "",
        "shop/__main__.py": "from shop import web\n",
        "shop/web.py": "",
        "tests/test_shop.py": "",
    },
    "node-main": {
        "package.json": json.dumps({"name": "x", "main": "./index.js"}),
        "package-lock.json": NPM_LOCK,
        "index.js": "const routes = require('./routes');\nconst cfg = require('./config.json');\n",
        "routes/index.js": "import { db } from '../db.mjs';\n",
        "db.mjs": "",
        "config.json": "{}",
        "scratch.js": "",  # required by nothing: never shipped
    },
    "node-scripts-start": {
        "package.json": json.dumps(
            {
                "name": "x",
                "main": "lib/api.js",
                "scripts": {"start": "node -r ./tracing.js src/server.js"},
            }
        ),
        "package-lock.json": NPM_LOCK,
        "tracing.js": "",
        "src/server.js": "require('../lib/api')\n",
        "lib/api.js": "",
    },
}
EXPECTED = {  # (entrypoint written, appFiles written): None where the profile's default fits
    "python-app-py": (None, ["app.py", "settings.py", "helpers"]),
    "python-package": (["python3", "-m", "shop"], ["shop"]),
    "node-main": (
        ["/nodejs/bin/node", "index.js"],
        ["package.json", "index.js", "config.json", "routes", "db.mjs"],
    ),
    "node-scripts-start": (
        ["/nodejs/bin/node", "-r", "./tracing.js", "src/server.js"],
        ["package.json", "src", "lib"],
    ),
}


def _source(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _init(tmp_path: Path, files: dict[str, str], *args: str) -> tuple[Path, str]:
    source = _source(tmp_path / "src" / "api", files)
    out = tmp_path / "services" / "api.yaml"
    proc = run_cgen(["init", str(source), "--out", str(out), "--port", "http=8080", *args])
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_init_names_what_runs_and_ships_and_the_manifest_validates(
    tmp_path: Path, layout: str
) -> None:
    out, said = _init(tmp_path, LAYOUTS[layout])
    build = yaml.safe_load(out.read_text(encoding="utf-8"))["spec"]["build"]
    entrypoint, app_files = EXPECTED[layout]
    assert (build.get("entrypoint"), build.get("appFiles")) == (entrypoint, app_files)
    assert "\n# build: what the image runs and ships" in out.read_text(encoding="utf-8")
    assert "runs " in said and "missing" not in said and "does not lock" not in said
    proc = run_cgen(["validate", str(out)])
    assert proc.returncode == 0, proc.stderr
    # The Dockerfile runs the entry and copies exactly the files init named.
    rendered = run_cgen(["render", str(out), "--out", str(tmp_path / "out")])
    assert rendered.returncode == 0, rendered.stderr
    dockerfile = (tmp_path / "out" / "api" / "api" / "Dockerfile").read_text(encoding="utf-8")
    profile = {"python": ["python3", "-m", "app"], "node": ["/nodejs/bin/node", "server.js"]}
    runs = entrypoint or profile[layout.split("-")[0]]
    assert f"ENTRYPOINT {json.dumps(runs)}" in dockerfile
    copied = re.findall(r"^COPY (\S+) /app/\1$", dockerfile, re.M)
    assert copied == (app_files or ["app"])


@pytest.mark.parametrize(
    ("files", "announced"),
    [
        pytest.param(
            {**LAYOUTS["python-app-py"], "requirements.txt": "flask==3.0.0\nredis==5.0.1\n"},
            "flask==3.0.0 has no --hash",
            id="requirements-without-hashes",
        ),
        pytest.param(
            {k: v for k, v in LAYOUTS["node-main"].items() if k != "package-lock.json"},
            "has no package-lock.json",
            id="package-json-without-lock",
        ),
    ],
)
def test_an_unlocked_source_fails_validate_only_as_init_announced(
    tmp_path: Path, files: dict[str, str], announced: str
) -> None:
    out, said = _init(tmp_path, files)
    told = [line for line in said.splitlines() if "validate and render refuse" in line]
    assert len(told) == 1
    lock = "package-lock.json" if "package-lock" in announced else "requirements.txt"
    if lock == "requirements.txt":
        assert "requirements.txt:1: flask==3.0.0 has no --hash" in told[0]
        assert "(and 1 more)" in told[0]
        assert "pip-compile --generate-hashes" in told[0]
        assert "uv pip compile --generate-hashes" in told[0]
    else:
        assert "missing package-lock.json" in told[0] and "npm install" in told[0]
    proc = run_cgen(["validate", str(out)])
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors and all(announced in line for line in errors[:1]), proc.stderr
    # Every error is about the lock file init named; nothing else is wrong.
    assert all(lock in line for line in errors), proc.stderr


def test_the_namespace_is_the_services_own_unless_told(tmp_path: Path) -> None:
    out, said = _init(tmp_path, LAYOUTS["python-package"])
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["metadata"]["namespace"] == "api"
    assert "namespace api, the service's name (--namespace NAME picks another)" in said
    checked = run_cgen(["validate", str(out)])
    assert checked.returncode == 0 and "'default'" not in checked.stderr

    # The project's cgen.yaml names the namespace: init writes that one.
    (out.parent / "cgen.yaml").write_text("namespace: shop\n", encoding="utf-8")
    other = out.parent / "web.yaml"
    proc = run_cgen(
        ["init", str(out.parent.parent / "src" / "api"), "-o", str(other), "--name", "web"]
    )
    assert yaml.safe_load(other.read_text(encoding="utf-8"))["metadata"]["namespace"] == "shop"
    assert "namespace shop, from " in proc.stdout

    # Asked for 'default', init writes it and says what that means; validate warns too.
    asked = out.parent / "old.yaml"
    proc = run_cgen(
        [
            "init",
            str(out.parent.parent / "src" / "api"),
            "-o",
            str(asked),
            "--name",
            "old",
            "--namespace",
            "default",
        ]
    )
    assert yaml.safe_load(asked.read_text(encoding="utf-8"))["metadata"]["namespace"] == "default"
    assert "namespace default, as asked: cgen will manage it" in proc.stdout
    warned = run_cgen(["validate", str(asked)])
    assert "1 service runs in the namespace 'default' (old)" in warned.stderr
