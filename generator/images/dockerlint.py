"""What a Dockerfile template returned, checked like any Dockerfile line cgen writes.

A project's own template is code from a pull request: the sandbox keeps it from running
Python, and these checks keep its output inside cgen's hardening. A base image that is
not the digest-pinned one cgen passed, a final stage that runs as root, a remote ADD, a
foreign BuildKit frontend or a privileged RUN would all build and ship without a word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# BuildKit runs the frontend image a `# syntax=` line names, with the build's secrets and
# context: only Docker's own Dockerfile frontend is allowed.
_SYNTAX = re.compile(
    r"(docker\.io/)?docker/dockerfile(-upstream)?:[0-9A-Za-z.\-]+(@sha256:[0-9a-f]{64})?"
)
_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S*)\s*")
_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_REMOTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|git@)")
_NUMERIC_USER = re.compile(r"([0-9]+)(:([0-9]+))?")
# Flags that need a builder entitlement and lift the build sandbox.
_PRIVILEGED_RUN = ("--security=insecure", "--network=host")


@dataclass(frozen=True)
class Finding:
    """One forbidden line: the 1-based line of the output, its instruction, why."""

    line: int
    instruction: str
    text: str
    message: str


def control_character(text: str) -> str | None:
    """The first character no Dockerfile line may hold (controls, bidi and line separators)."""
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return None  # no character of those categories (the common case, found in C)
    for char in text:
        if char in "\n\t" or char.isprintable():
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            return char
    return None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, instruction with continuations joined), heredoc bodies skipped."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start, line = i + 1, lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            nxt = lines[i].strip()
            i += 1
            if nxt.startswith("#"):
                continue  # comments inside a continued instruction are dropped by Docker
            line = line[:-1] + " " + nxt
        for match in _HEREDOC.finditer(line):
            end = match.group(1)
            while i < len(lines) and lines[i].strip() != end:
                i += 1
            i += 1
        yield start, line


def _directives(text: str) -> Iterator[tuple[int, str, str]]:
    for number, line in enumerate(text.split("\n"), 1):
        match = _DIRECTIVE.fullmatch(line)
        if match is None:
            return
        yield number, match.group(1).lower(), match.group(2)


def _arguments(rest: str) -> tuple[list[str], list[str]]:
    words = rest.split()
    flags = [w for w in words if w.startswith("--")]
    return flags, [w for w in words if not w.startswith("--")]


def dockerfile_problems(text: str, images: tuple[str, ...], uid: int | None) -> list[Finding]:
    """Every line of a rendered Dockerfile that cgen's hardening forbids."""
    for number, line in enumerate(text.split("\n"), 1):
        char = control_character(line)
        if char is not None:
            # The rest of the text cannot be read reliably: report this alone.
            message = f"holds the control character U+{ord(char):04X}"
            word = (line.split() or ["line"])[0]
            instruction = word.upper() if word.isalpha() else "line"
            return [Finding(number, instruction, line, message)]
    return _directive_problems(text) + _instruction_problems(text, images, uid)


def _directive_problems(text: str) -> list[Finding]:
    found: list[Finding] = []
    for number, key, value in _directives(text):
        if key == "syntax" and not _SYNTAX.fullmatch(value):
            message = f"names the BuildKit frontend {value!r}; only docker/dockerfile is allowed"
            found.append(Finding(number, "syntax", value, message))
        elif key == "escape" and value != "\\":
            found.append(Finding(number, "escape", value, "must not change the escape character"))
    return found


def _instruction_problems(text: str, images: tuple[str, ...], uid: int | None) -> list[Finding]:
    found: list[Finding] = []
    stages: list[str] = []
    final_user: tuple[int, str] | None = None
    final_from: tuple[int, str] | None = None
    for number, line in _logical_lines(text):
        word, _, rest = line.partition(" ")
        instruction = word.upper()
        flags, args = _arguments(rest)
        if instruction == "FROM":
            final_from, final_user = (number, line), None
            image = args[0] if args else ""
            if image not in images and image.lower() not in stages:
                allowed = " or ".join(images)
                message = f"uses {image!r}; a stage may only start from {allowed} or a stage"
                found.append(Finding(number, "FROM", line, message))
            if len(args) == 3 and args[1].upper() == "AS":
                stages.append(args[2].lower())
        elif instruction in ("COPY", "RUN", "ADD") and (source := _foreign_source(flags, stages)):
            message = f"reads from {source!r}; --from may only name a stage"
            found.append(Finding(number, instruction, line, message))
        elif instruction == "USER":
            final_user = (number, rest.strip())
        elif instruction == "ADD" and any(_REMOTE.match(a) for a in args):
            message = "fetches a remote URL; COPY files from the build context instead"
            found.append(Finding(number, "ADD", line, message))
        elif instruction in ("RUN", "ONBUILD") and any(f in flags for f in _PRIVILEGED_RUN):
            message = "lifts the build sandbox (--security=insecure or --network=host)"
            found.append(Finding(number, instruction, line, message))
    return found + _final_user_problems(final_from, final_user, uid)


def _foreign_source(flags: list[str], stages: list[str]) -> str | None:
    """An image that COPY --from or RUN --mount=...,from= would pull past the pinned bases."""
    for flag in flags:
        sources = [flag.removeprefix("--from=")] if flag.startswith("--from=") else []
        if flag.startswith("--mount="):
            parts = dict(p.partition("=")[::2] for p in flag.removeprefix("--mount=").split(","))
            sources += [parts["from"]] if "from" in parts else []
        for source in sources:
            if source.lower() not in stages and not source.isdigit():
                return source
    return None


def _final_user_problems(
    final_from: tuple[int, str] | None, final_user: tuple[int, str] | None, uid: int | None
) -> list[Finding]:
    if final_from is None:
        return [Finding(1, "FROM", "", "the template renders no FROM instruction")]
    if final_user is None:
        message = f"the final stage sets no numeric USER (cgen runs it as {uid}:{uid})"
        return [Finding(final_from[0], "USER", final_from[1], message)]
    number, user = final_user
    match = _NUMERIC_USER.fullmatch(user)
    if match is None or int(match.group(1)) == 0 or int(match.group(3) or "1") == 0:
        message = f"{user!r} in the final stage: the image must run as a numeric non-root uid:gid"
        return [Finding(number, "USER", f"USER {user}", message)]
    return []
