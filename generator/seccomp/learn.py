"""`cgen seccomp learn`: from audit logs and strace output to manifest `syscalls:` lines.

Input: kernel audit records of seccomp (type=1326 / type=SECCOMP, from `dmesg`, the
kernel log or auditd's audit.log), which name the syscall by number and the
architecture by its AUDIT_ARCH value, and `strace` output, which names calls directly.
Each record is attributed to a service: the one `--service` names, else the service
whose runtime's entrypoint program is the record's exe or comm. For every service the
calls its current profile does not allow are proposed as `spec.syscalls` lines with a
reason; a dangerous call is never proposed silently: it is printed commented out, with
why it is dangerous, and counted, so the caller can warn.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

import yaml

from generator.errors import UsageError
from generator.model import Service
from generator.project import Project
from generator.runtime.shipped import profiles_root
from generator.seccomp import policy
from generator.seccomp import profile as seccomp
from generator.seccomp.explain import find_service

NUMBERS_FILE = "seccomp/syscall-numbers.yaml"
X32_SYSCALL_BIT = 0x40000000
_AUDIT = re.compile(r"type=(?:1326|SECCOMP)\b")
_FIELD = re.compile(r'\b(arch|syscall|exe|comm|pid)=("[^"]*"|\S+)')
_STRACE = re.compile(
    r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:<\.\.\. )?([a-z_][a-z0-9_]*)(?:\(| resumed>)"
)


@cache
def syscall_numbers() -> dict[str, dict[int, str]]:
    """{audit arch (hex): {number: name}} (profiles/seccomp/syscall-numbers.yaml)."""
    text = (profiles_root() / NUMBERS_FILE).read_text(encoding="utf-8")
    data: dict[str, dict[int, str]] = yaml.safe_load(text)
    return data


@dataclass(frozen=True)
class Record:
    """One observed syscall: its name, the program and where it was read."""

    name: str
    exe: str
    origin: str
    comm: str = ""


@dataclass
class Learned:
    """What learn found: the text to print and how many dangerous calls it held back."""

    text: str
    dangerous: int = 0
    unattributed: list[Record] = field(default_factory=list)


def _audit_record(line: str, origin: str) -> Record | None:
    fields = {k: v.strip('"') for k, v in _FIELD.findall(line)}
    if "syscall" not in fields or "arch" not in fields:
        return None
    arch, number = fields["arch"].lower(), int(fields["syscall"])
    names = syscall_numbers().get(arch)
    if names is None:
        raise UsageError(f"{origin}: architecture arch={arch} is not one cgen profiles cover")
    name = names.get(number & ~X32_SYSCALL_BIT if arch == "c000003e" else number)
    if name is None:
        raise UsageError(f"{origin}: syscall number {number} is unknown on arch={arch}")
    return Record(name, fields.get("exe", ""), origin, fields.get("comm", ""))


def parse(lines: Iterable[str], source: str) -> list[Record]:
    """Records from audit log lines (type=1326/SECCOMP) or strace output lines."""
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        origin = f"{source}:{number}"
        if _AUDIT.search(line):
            record = _audit_record(line, origin)
            if record is not None:
                records.append(record)
        elif match := _STRACE.match(line.strip()):
            records.append(Record(match.group(1), "", origin))
    return records


def _owner(project: Project, record: Record, named: Service | None) -> Service | None:
    if named is not None:
        return named
    programs = {PurePosixPath(record.exe).name, record.comm} - {""}
    owners = [
        s
        for s in project.services
        if PurePosixPath(project.runtime(s).entrypoint[0]).name in programs
    ]
    return owners[0] if len(owners) == 1 else None


def _service_lines(project: Project, svc: Service, records: list[Record]) -> tuple[list[str], int]:
    allowed = seccomp.reasons(project, svc)
    enosys = set(seccomp.enosys_syscalls(project, svc))
    seen: dict[str, list[Record]] = {}
    for record in records:
        if record.name not in allowed and record.name not in enosys:
            seen.setdefault(record.name, []).append(record)
    if not seen:
        return [], 0
    groups = project.profiles.capability_syscalls()
    bad = policy.dangerous()
    lines = [f"# {svc.namespace}/{svc.name} ({svc.source}): add to spec.syscalls:", "syscalls:"]
    lines += [f"  - {name}" for name, _ in svc.syscall_keys]
    held = 0
    for name in sorted(seen):
        first = seen[name][0]
        exe = f" by {first.exe}" if first.exe else ""
        why = f"seen {len(seen[name])}x{exe}, first at {first.origin}"
        caps = sorted(c for c, calls in groups.items() if name in calls)
        if caps:
            why += f"; or declare capability {' or '.join(caps)}"
        if name in bad:
            held += 1
            lines.append(f"  # - {name}  # DANGEROUS, not proposed: {bad[name]}; {why}")
        else:
            lines.append(f"  - {name}  # {why}")
    return lines, held


def learn(project: Project, sources: list[tuple[str, list[str]]], service: str | None) -> Learned:
    """Propose manifest syscalls lines from (source name, lines) audit logs or strace output."""
    named = find_service(project, service) if service is not None else None
    by_service: dict[tuple[str, str], list[Record]] = {}
    result = Learned("")
    for source, lines in sources:
        for record in parse(lines, source):
            svc = _owner(project, record, named)
            if svc is None:
                result.unattributed.append(record)
                continue
            by_service.setdefault((svc.namespace, svc.name), []).append(record)
    out: list[str] = []
    for svc in project.services:
        records = by_service.get((svc.namespace, svc.name))
        if not records:
            continue
        lines, held = _service_lines(project, svc, records)
        result.dangerous += held
        out += [*lines, ""] if lines else [f"# {svc.namespace}/{svc.name}: nothing to add", ""]
    if result.unattributed:
        programs = sorted({r.exe or "(strace, no program)" for r in result.unattributed})
        out.append(
            f"# {len(result.unattributed)} record(s) matched no single service "
            f"({', '.join(programs)}): name one with --service"
        )
    if not out:
        out.append("# no seccomp records found")
    result.text = "\n".join(out).rstrip("\n") + "\n"
    return result


def read_sources(paths: list[Path]) -> list[tuple[str, list[str]]]:
    """(name, lines) of each log file; '-' reads standard input."""
    sources: list[tuple[str, list[str]]] = []
    for path in paths:
        if str(path) == "-":
            sources.append(("<stdin>", sys.stdin.read().splitlines()))
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"--log: cannot read {path}: {exc.strerror}") from exc
        sources.append((str(path), text.splitlines()))
    return sources
