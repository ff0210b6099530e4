"""The shipped Dockerfile templates ship compiled (generator/images/compiled/): equal to what
Jinja compiles here, used only for the exact text they came from, rendering the same bytes
and pointing an error at the same template line as their source."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest
from conftest import ROOT, run_cgen
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.errors import ManifestError
from generator.images import compiled, templating
from generator.images.precompile import FOLDER, compiled_files
from generator.images.templating import load_templates, source_digest

SHIPPED = load_templates(None, None)


def test_compiled_folder_is_what_this_jinja_compiles() -> None:
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FOLDER.glob("*.py")}
    expected = compiled_files()
    # Which templates, and the text each was compiled from, whatever the Jinja version.
    assert sorted(on_disk) == sorted(expected), "run python -m generator.images.precompile"
    assert {name: source_digest(text) for name, text in SHIPPED.sources} == compiled.DIGESTS
    if jinja2.__version__ == compiled.JINJA:
        stale = [name for name in expected if on_disk[name] != expected[name]]
        assert not stale, f"run python -m generator.images.precompile: {stale} differ"
    else:  # another Jinja's code is never run: every template is compiled from its text
        env = templating._environment(SHIPPED)
        assert all(templating._precompiled(n, s, env) is None for n, s in SHIPPED.sources)


def test_only_the_exact_text_uses_the_compiled_code() -> None:
    name, text = next((n, s) for n, s in SHIPPED.sources if n == "python.Dockerfile.j2")
    assert jinja2.__version__ == compiled.JINJA, "the registry's Jinja is the one compiled/ has"
    env = templating._environment(SHIPPED)
    code = templating._precompiled(name, text, env)
    assert code is not None and code.co_filename == str(FOLDER / "python.Dockerfile.py")
    assert templating._precompiled(name, text + "# edited\n", env) is None
    assert templating._precompiled("mine.Dockerfile.j2", text, env) is None
    # The same text for an environment with other settings (here: no capped operators)
    # would compile to other code: it is compiled from source.
    plain = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    assert templating._precompiled(name, text, plain) is None


def _dockerfiles(out: Path) -> dict[str, str]:
    return {
        path.relative_to(out).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(out.rglob("*"))
        if path.name in ("Dockerfile", "Dockerfile.dockerignore")
    }


def test_compiled_and_source_templates_render_the_same_bytes(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", project, ignore=shutil.ignore_patterns("out"))
    run_cgen(["render", str(project), "--out", str(tmp_path / "compiled")], check=True)
    compiled_out = _dockerfiles(tmp_path / "compiled")
    templating._environment.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(templating, "_precompiled", lambda name, source, environment: None)
        run_cgen(["render", str(project), "--out", str(tmp_path / "source")], check=True)
    templating._environment.cache_clear()
    # A Dockerfile and a .dockerignore for each service cgen builds in the example.
    assert len(compiled_out) == 2 * len(list((ROOT / "out").rglob("Dockerfile")))
    assert compiled_out == _dockerfiles(tmp_path / "source")


def _error_of_missing_values() -> str:
    templating._environment.cache_clear()  # environments keep the templates they loaded
    with pytest.raises(ManifestError) as caught:
        templating.render_template(SHIPPED, "python.Dockerfile.j2")
    templating._environment.cache_clear()
    [problem] = caught.value.problems
    return str(problem)


def test_an_error_names_the_same_template_line_compiled_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _error_of_missing_values()  # python.Dockerfile.j2 compiled, and its parent
    assert message.startswith("cgen's templates/dockerfile/base.Dockerfile.j2:"), message
    line = int(message.split(":")[1])
    source = dict(SHIPPED.sources)["base.Dockerfile.j2"].split("\n")
    assert "{{" in source[line - 1] or "{%" in source[line - 1], (line, message)
    monkeypatch.setattr(templating, "_precompiled", lambda name, source, environment: None)
    assert _error_of_missing_values() == message
