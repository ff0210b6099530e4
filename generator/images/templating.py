"""Jinja for text formats only: templates read once at load, rendered in a sandbox.

The project's own templates (its profiles folder's templates/) override cgen's shipped
ones by file name. Rendering is pure: sources are read by load_templates, and the
environment is sandboxed, so a template sees only the values cgen passes it. What a
Dockerfile template returns is checked like any Dockerfile cgen writes (dockerlint).
"""

from __future__ import annotations

import hashlib
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import CodeType, FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from generator.errors import Location, ManifestError, Problem
from generator.images.dockerlint import Finding, control_character, dockerfile_problems
from generator.runtime.shipped import templates_root

if TYPE_CHECKING:
    import jinja2

SUFFIX = ".j2"
SHIPPED_DIR = "dockerfile"


@dataclass(frozen=True)
class Templates:
    """Every template source by file name (the user's first), and where each came from."""

    sources: tuple[tuple[str, str], ...]
    origins: tuple[tuple[str, str], ...]
    user_dir: str | None = None

    def has(self, name: str) -> bool:
        """Whether a template of that name exists (the user's or cgen's)."""
        return any(n == name for n, _ in self.sources)

    def origin(self, name: str) -> str:
        """Where a template was read from (for messages)."""
        return dict(self.origins).get(name, name)


def _read_folder(folder: Path, shown: str, found: dict[str, tuple[str, str]]) -> None:
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name not in found and path.is_file():
            origin = f"{shown}/{path.name}"
            found[path.name] = (_read_source(path, origin), origin)


def _read_source(path: Path, origin: str) -> str:
    """A template's text; unreadable, huge or non-UTF-8 files are located errors."""
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_OUTPUT:
            reason = f"is larger than {MAX_OUTPUT} bytes"
        else:
            return raw.decode("utf-8")
    except OSError as exc:
        reason = f"cannot be read: {exc.strerror}"
    except UnicodeDecodeError as exc:
        reason = f"is not UTF-8 text (byte {exc.start})"
    raise ManifestError(problems=[Problem(Location(origin, 1, 1), "template", reason)])


def load_templates(user_dir: Path | None, user_display: str | None) -> Templates:
    """Read the user's templates (if the folder has any) and cgen's shipped ones."""
    found: dict[str, tuple[str, str]] = {}
    if user_dir is not None and user_dir.is_dir():
        _read_folder(user_dir, f"{user_display or user_dir.parent}/templates", found)
    _read_folder(templates_root() / SHIPPED_DIR, f"cgen's templates/{SHIPPED_DIR}", found)
    names = sorted(found)
    shown = user_display if user_dir is not None and user_dir.is_dir() else None
    return Templates(
        tuple((n, found[n][0]) for n in names), tuple((n, found[n][1]) for n in names), shown
    )


# A template is code from the project: bound what it may build and how long it may run,
# so a hostile one ends in a clean error rather than a hang or an exhausted machine.
MAX_OUTPUT = 1 << 20  # characters; a Dockerfile is a page
MAX_SECONDS = 10.0
MAX_MEMORY = 512 << 20  # bytes a render may add to the process


@cache
def _environment(templates: Templates) -> jinja2.Environment:
    # One environment per template set: each template is compiled once per run, not once
    # per service. Sandboxed and immutable: a template can read the values it is given,
    # never call into Python or change them.
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Bounded(ImmutableSandboxedEnvironment):
        # The sandbox forbids attribute tricks (__class__, __globals__) but lets
        # 'x' * 10**9 and 9 ** 9 ** 9 through: cap the operators that multiply size.
        intercepted_binops = frozenset({"*", "**", "+"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and (_big(right, 64) or _big(left, 1 << 64)):
                raise jinja2.exceptions.SecurityError("power too large")
            if operator == "*" and (_big(left, MAX_OUTPUT) or _big(right, MAX_OUTPUT)):
                raise jinja2.exceptions.SecurityError("product too large")
            if operator == "*" and _size(left) * _size(right) > MAX_OUTPUT:
                raise jinja2.exceptions.SecurityError("product too large")
            if operator == "+" and _size(left) + _size(right) > MAX_OUTPUT:
                raise jinja2.exceptions.SecurityError("sum too large")
            return super().call_binop(context, operator, left, right)

    sources = dict(templates.sources)

    class _Loader(jinja2.BaseLoader):
        # The file name is each template's own name, so an error's frame names the file.
        def get_source(self, environment: Any, name: str) -> tuple[str, str, Any]:
            if name not in sources:
                raise jinja2.TemplateNotFound(name)
            return sources[name], name, lambda: True

        def load(self, environment: Any, name: str, globals: Any = None) -> Any:
            code = _precompiled(name, sources[name], environment) if name in sources else None
            if code is None:
                return super().load(environment, name, globals)
            return environment.template_class.from_code(environment, code, globals or {})

    env = _Bounded(
        loader=_Loader(),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # lipsum builds text of any size on request; namespace is the one mutable object, the
    # only way a loop could grow a value step by step (s = s ~ s, forty times).
    env.globals.pop("lipsum", None)
    env.globals.pop("namespace", None)
    return env


def compiled_file(name: str) -> str:
    """The file of compiled/ that holds a shipped template's compiled form."""
    return name.removesuffix(SUFFIX) + ".py"


def source_digest(source: str) -> str:
    """What a compiled module records of the text it was compiled from."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def settings_digest(environment: Any) -> str:
    """What of an environment shapes the code Jinja compiles for it: the sandbox and its
    intercepted operators, the syntax and whitespace settings, extensions."""
    env = environment
    settings = (
        env.sandboxed,
        sorted(getattr(env, "intercepted_binops", ())),
        sorted(getattr(env, "intercepted_unops", ())),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        env.finalize is not None,
        repr(env.autoescape),
        sorted(env.extensions),
    )
    return source_digest(repr(settings))


def _precompiled(name: str, source: str, environment: Any) -> CodeType | None:
    # A shipped template's code as Jinja compiled it (precompile.py), when this text, this
    # Jinja and these environment settings are the ones it was compiled with: compiling
    # costs more than rendering. Anything else, a user's template included, is compiled
    # from source.
    import jinja2

    from generator.images import compiled

    recorded = compiled.DIGESTS.get(name)
    if jinja2.__version__ != compiled.JINJA or recorded != source_digest(source):
        return None
    if settings_digest(environment) != compiled.SETTINGS:
        return None
    try:  # the import system's loader: bytecode cached and checked like any module's
        return SourceFileLoader(name, str(_compiled_path(name))).get_code(name)
    except (ImportError, OSError, SyntaxError, ValueError):
        return None


def _compiled_path(name: str) -> Path:
    from generator.images import compiled

    return Path(compiled.__file__).parent / compiled_file(name)


def _size(value: Any) -> int:
    # How much a * or + operand weighs: its length, or a number as itself.
    if isinstance(value, str | bytes | list | tuple):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(1, abs(value))
    return 1


def _big(value: Any, limit: int) -> bool:
    # Numbers only: a string or list operand is bounded by the other (a number) operand.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return abs(value) > limit
    return False


def compile_error(templates: Templates, name: str) -> str | None:
    """Why a template cannot be compiled (syntax, a missing parent), or None."""
    import jinja2

    try:
        _environment(templates).get_template(name)
    except jinja2.TemplateNotFound as exc:
        return f"{templates.origin(name)}: template {exc.name} not found"
    except jinja2.TemplateSyntaxError as exc:
        return f"{templates.origin(exc.name or name)}:{exc.lineno}: {exc.message}"
    return None


class _TooSlow(Exception):
    """The render ran past MAX_SECONDS."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    # A template loop can spin without calling anything the sandbox sees; only a timer
    # interrupts it. Signals reach the main thread only: elsewhere the sandbox's own
    # limits (range, operators, output size) still hold.
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _memory_cap(extra: int) -> Iterator[None]:
    # Jinja's ~ (concatenation) cannot be intercepted: 'a ~ a ~ a ...' over a 1 MB string
    # builds gigabytes before any output check. A lower address-space limit for the render
    # turns that into a MemoryError. Process-wide, so only in the main thread (the CLI).
    try:
        import resource

        size = Path("/proc/self/statm").read_text(encoding="ascii").split()[0]
        used = int(size) * resource.getpagesize()
    except (ImportError, OSError, ValueError, IndexError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = used + extra
    if threading.current_thread() is not threading.main_thread() or (
        soft != resource.RLIM_INFINITY and soft <= cap
    ):
        yield
        return
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _where(templates: Templates, name: str, tb: TracebackType | None) -> Location:
    """The template line an exception came from (Jinja maps its frames to template lines)."""
    names = {n: n for n, _ in templates.sources}
    names.update({str(_compiled_path(n)): n for n in list(names)})  # a precompiled one's
    found = Location(templates.origin(name), 1, 1)
    while tb is not None:
        shown = names.get(tb.tb_frame.f_code.co_filename)
        if shown is not None:
            found = Location(templates.origin(shown), tb.tb_lineno, 1)
        tb = tb.tb_next
    return found


def _render(templates: Templates, name: str, values: dict[str, Any]) -> str:
    import jinja2  # only the Dockerfile paths pay for importing Jinja

    try:
        with _deadline(MAX_SECONDS), _memory_cap(MAX_MEMORY):
            chunks: list[str] = []
            size = 0
            for chunk in _environment(templates).get_template(name).generate(**values):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise _TooLarge
                chunks.append(chunk)
            return "".join(chunks)
    except _TooSlow:
        reason = f"took longer than {MAX_SECONDS:g} seconds to render"
        where = Location(templates.origin(name), 1, 1)
    except _TooLarge:
        reason = f"renders more than {MAX_OUTPUT} characters"
        where = Location(templates.origin(name), 1, 1)
    except MemoryError:
        reason = f"needed more than {MAX_MEMORY >> 20} MiB to render"
        where = Location(templates.origin(name), 1, 1)
    except jinja2.TemplateNotFound as exc:
        reason = f"template {exc.name!r} not found (templates extend only each other)"
        where = _where(templates, name, exc.__traceback__)
    except jinja2.exceptions.SecurityError as exc:
        reason = f"the sandbox refused: {exc}"
        where = _where(templates, name, exc.__traceback__)
    except Exception as exc:  # a template is the project's code: any failure is its own
        reason = (
            f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, jinja2.TemplateError)
            else str(exc)
        )
        where = _where(templates, name, exc.__traceback__)
    raise ManifestError(problems=[Problem(where, "template", reason[:300])])


class _TooLarge(Exception):
    """The render produced more than MAX_OUTPUT characters."""


def render_template(templates: Templates, name: str, **values: Any) -> str:
    """Render a template (pure: the sources were read at load) with trailing blanks trimmed;
    a Dockerfile's text must pass cgen's hardening checks (a located error otherwise)."""
    text = _render(templates, name, values)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    result = "\n".join(lines) + "\n"
    if name.endswith(".Dockerfile.j2"):
        images = tuple(str(values.get(k, "")) for k in ("build_image", "runtime_image"))
        uid = values.get("uid")
        found = dockerfile_problems(result, images, uid if isinstance(uid, int) else None)
        if found:
            raise ManifestError(problems=[_locate(templates, name, f, values) for f in found])
    else:
        char = control_character(result)
        if char is not None:
            where = Location(templates.origin(name), 1, 1)
            message = f"renders the control character U+{ord(char):04X}"
            raise ManifestError(problems=[Problem(where, "template", message)])
    return result


def _locate(templates: Templates, name: str, finding: Finding, values: dict[str, Any]) -> Problem:
    """The template line that most likely wrote a finding: the same line written literally,
    else the first line (in the template, then its parents) that starts like it."""
    sources = dict(templates.sources)
    order = [name, *(n for n in sources if n != name)]
    service = values.get("service_json", "")
    shown = finding.text.strip()[:120]
    message = f"{finding.message} (rendered for service {service}: {shown!r})"
    words = finding.text.split()

    def probes(line: str, number: int, candidate: str) -> Iterator[bool]:
        starts = line.upper().startswith((words or [finding.instruction])[0].upper())
        # A template without inheritance writes its lines where its source has them.
        yield starts and candidate == name and number == finding.line
        yield line == finding.text.strip()
        yield len(words) > 1 and line.split()[:2] == words[:2]
        yield line.upper().startswith(finding.instruction.upper() + " ")

    for rank in range(4):
        for candidate in order:
            for number, line in enumerate(sources[candidate].split("\n"), 1):
                if line.strip() and list(probes(line.strip(), number, candidate))[rank]:
                    where = Location(templates.origin(candidate), number, 1)
                    return Problem(where, finding.instruction, message)
    return Problem(Location(templates.origin(name), 1, 1), finding.instruction, message)
