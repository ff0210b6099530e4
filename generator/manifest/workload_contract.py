"""The manifest fields for real systems (docs/real-systems.md): configuration, storage, jobs,
the Service's exposure, autoscaling, pod placement and kustomize patches.

All optional: a manifest that uses none of them renders as before. contract.py plugs
WORKLOAD_FIELDS into the manifest's spec.
"""

from __future__ import annotations

import posixpath
import re

from generator.manifest.formats import (
    DNS_SUBDOMAIN,
    LABEL_KEY,
    LABEL_VALUE,
    WHY_CIDR,
    WHY_CONFIGMAP,
    WHY_LABEL_KEY,
    WHY_LABEL_VALUE,
    WHY_OWN,
    WHY_PATH,
    WHY_PORT_NAME,
    WHY_PREFIXED,
    WHY_SUBDOMAIN,
    check_text,
)
from generator.model import ACCESS_MODES, CONCURRENCY_POLICIES, SERVICE_TYPES
from generator.schema import AnyOf, Enum, Field, Int, List, Map, Obj, Spec, Str

_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"
_QUANTITY = r"[1-9][0-9]{0,9}(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?"
_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# minute, hour, day of month, month, day of week (cron(8) as Kubernetes reads it)
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_CRON_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {m: i for i, m in enumerate(_MONTHS, 1)},
    {d: i for i, d in enumerate(_DAYS)},
)
MAX_CONFIG_BYTES = 1 << 20  # a ConfigMap holds at most 1 MiB


def _cron_value(text: str, field: int) -> int | None:
    low, high = _CRON_RANGES[field]
    number = _CRON_NAMES[field].get(text.lower()) if not text.isdigit() else int(text)
    return number if number is not None and low <= number <= high else None


def _cron_part(part: str, field: int) -> bool:
    body, _, step = part.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        return False
    if body in ("*", "?"):
        return True
    start, _, end = body.partition("-")
    first = _cron_value(start, field)
    last = _cron_value(end, field) if end else first
    return first is not None and last is not None and first <= last


def check_schedule(value: str) -> str | None:
    """Why a CronJob schedule does not parse (five cron fields or a macro), or None."""
    text = value.strip()
    if text.startswith("TZ=") or text.startswith("CRON_TZ="):
        return "set the time zone with job.timeZone, not inside the schedule"
    if text.startswith("@"):
        return None if text in _CRON_MACROS else f"{text!r} is not one of {', '.join(_CRON_MACROS)}"
    fields = text.split()
    if len(fields) != 5:
        return (
            f"{value!r} has {len(fields)} fields; a schedule has five "
            "(minute hour day-of-month month day-of-week) or is a macro such as @daily"
        )
    names = ("minute", "hour", "day of month", "month", "day of week")
    for index, field in enumerate(fields):
        if not all(_cron_part(part, index) for part in field.split(",")):
            low, high = _CRON_RANGES[index]
            return f"{value!r}: {field!r} is not a valid {names[index]} ({low}-{high})"
    return None


def _check_time_zone(value: str) -> str | None:
    if value.startswith("/") or ".." in value.split("/"):
        return "must be an IANA time zone name such as Etc/UTC or Europe/Berlin"
    return None


def _check_relative(value: str) -> str | None:
    if not value.isprintable():
        return "must not contain control or invisible characters"
    if value.startswith("/") or posixpath.normpath(value) in (".", ".."):
        return "must be a file path relative to the manifest"
    return None


def _check_patch_path(value: str) -> str | None:
    error = _check_relative(value)
    if error:
        return error
    if not value.endswith((".yaml", ".yml", ".json")):
        return "must be a .yaml, .yml or .json kustomize patch file"
    return None


ENV_VALUE = Str(None, "", 32768, (check_text,), why=WHY_OWN)
ENV = Map(Str(_ENV_NAME, "an environment variable name", 256, why=WHY_OWN), ENV_VALUE)
ARGS = List(Str(None, "", 4096, (check_text,), why=WHY_OWN), min_items=1)

CONFIG_FILE: Spec = AnyOf(
    (
        Str(None, "", MAX_CONFIG_BYTES, (check_text,), why=WHY_CONFIGMAP),
        Obj({"file": Field(Str(None, "", 4096, (_check_relative,), why=WHY_PATH), True)}),
    ),
    "the file's text, or {file: path} relative to the manifest",
)
CONFIG = Obj(
    {
        "name": Field(
            Str(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", "a DNS-1123 label", 40, why=WHY_PREFIXED),
            True,
            "the ConfigMap is <service>-<name>",
        ),
        "mountPath": Field(
            Str(None, "", 4096, why=WHY_PATH), True, "folder the files appear in (read-only)"
        ),
        "files": Field(
            Map(
                Str(
                    _CONFIG_KEY,
                    "a file name ([-._a-zA-Z0-9])",
                    253,
                    why="Kubernetes allows ConfigMap keys of at most 253 characters",
                ),
                CONFIG_FILE,
            ),
            True,
        ),
    }
)

STORAGE = Obj(
    {
        "name": Field(
            Str(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", "a DNS-1123 label", 40, why=WHY_PREFIXED), True
        ),
        "mountPath": Field(Str(None, "", 4096, why=WHY_PATH), True),
        "size": Field(Str(_QUANTITY, "a storage quantity such as 10Gi"), True),
        "storageClass": Field(Str(DNS_SUBDOMAIN, "a StorageClass name", 253, why=WHY_SUBDOMAIN)),
        "accessMode": Field(Enum(ACCESS_MODES)),
    }
)

JOB = Obj(
    {
        "schedule": Field(
            Str(None, "", 200, (check_schedule,), why=WHY_OWN),
            description="cron schedule: a CronJob",
        ),
        "timeZone": Field(
            Str(r"[A-Za-z0-9_+\-/]+", "a time zone name", 64, (_check_time_zone,), why=WHY_OWN)
        ),
        "concurrencyPolicy": Field(Enum(CONCURRENCY_POLICIES)),
        "backoffLimit": Field(Int(0, 100)),
        "activeDeadlineSeconds": Field(Int(1, 31_536_000)),
        "ttlSecondsAfterFinished": Field(Int(0, 31_536_000)),
        "startingDeadlineSeconds": Field(Int(10, 31_536_000)),
        "successfulJobsHistoryLimit": Field(Int(0, 100)),
        "failedJobsHistoryLimit": Field(Int(0, 100)),
    }
)

TOLERATION = Obj(
    {
        "key": Field(Str(LABEL_KEY, "a taint key", 316, why=WHY_LABEL_KEY)),
        "operator": Field(Enum(("Equal", "Exists"))),
        "value": Field(Str(LABEL_VALUE, "a taint value", 63, why=WHY_LABEL_VALUE)),
        "effect": Field(Enum(("NoSchedule", "PreferNoSchedule", "NoExecute"))),
        "tolerationSeconds": Field(Int(0, 31_536_000)),
    }
)

TOPOLOGY_SPREAD = Obj(
    {
        "maxSkew": Field(Int(1, 1000), True),
        "topologyKey": Field(Str(LABEL_KEY, "a node label key", 316, why=WHY_LABEL_KEY), True),
        "whenUnsatisfiable": Field(Enum(("DoNotSchedule", "ScheduleAnyway")), True),
        "minDomains": Field(Int(1, 1000)),
    }
)

POD = Obj(
    {
        "annotations": Field(
            Map(
                Str(LABEL_KEY, "an annotation key", 316, why=WHY_LABEL_KEY),
                Str(None, "", 65536, (check_text,), why=WHY_OWN),
            )
        ),
        "nodeSelector": Field(
            Map(
                Str(LABEL_KEY, "a node label key", 316, why=WHY_LABEL_KEY),
                Str(LABEL_VALUE, "a label value", 63, why=WHY_LABEL_VALUE),
            )
        ),
        "tolerations": Field(List(TOLERATION)),
        "topologySpread": Field(List(TOPOLOGY_SPREAD, min_items=1)),
        "priorityClassName": Field(
            Str(DNS_SUBDOMAIN, "a PriorityClass name", 253, why=WHY_SUBDOMAIN)
        ),
    }
)

EXPOSURE = Obj(
    {
        "type": Field(Enum(SERVICE_TYPES), True),
        "loadBalancerSourceRanges": Field(
            List(Str(None, "", 43, why=WHY_CIDR), unique=True, min_items=1),
            description="client networks a LoadBalancer admits (required for LoadBalancer)",
        ),
    }
)

AUTOSCALING = Obj(
    {
        "minReplicas": Field(Int(1, 1000)),
        "maxReplicas": Field(Int(1, 1000), True),
        "cpu": Field(Int(1, 1000), description="target average CPU utilization, percent"),
        "memory": Field(Int(1, 1000), description="target average memory utilization, percent"),
    }
)


def container_spec(fields: dict[str, Field]) -> Obj:
    """A sidecar or init container: the manifest's own field specs for the keys it shares."""
    keys = ("runtime", "image", "writablePaths", "capabilities", "syscalls", "resources")
    return Obj(
        {
            "name": Field(
                Str(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", "a DNS-1123 label", 40, why=WHY_PREFIXED),
                True,
            ),
            **{key: fields[key] for key in keys},
            "command": Field(ARGS),
            "args": Field(ARGS),
            "env": Field(ENV),
        }
    )


WORKLOAD_FIELDS: dict[str, Field] = {
    "command": Field(ARGS, description="the container's command (replaces the image entrypoint)"),
    "args": Field(ARGS, description="the container's arguments"),
    "env": Field(ENV, description="plain environment values (secrets stay files)"),
    "config": Field(List(CONFIG), description="ConfigMap-backed files, mounted read-only"),
    "storage": Field(
        List(STORAGE), description="persistent volumes (StatefulSet); [] drops a profile's default"
    ),
    "peerPorts": Field(
        List(
            AnyOf((Str(r"[a-z0-9-]+", "a port name", 15, why=WHY_PORT_NAME), Int(1, 65535))),
            min_items=1,
        ),
        description="own ports the replicas call each other on",
    ),
    "job": Field(JOB, description="run to completion: a Job, or with schedule a CronJob"),
    "service": Field(EXPOSURE, description="how the Kubernetes Service is exposed"),
    "autoscaling": Field(AUTOSCALING, description="HorizontalPodAutoscaler (autoscaling/v2)"),
    "pod": Field(POD, description="pod annotations and placement"),
    "patches": Field(
        List(Str(None, "", 4096, (_check_patch_path,), why=WHY_PATH), unique=True, min_items=1),
        description="kustomize patches (files relative to the manifest) applied to the output",
    ),
}

# Names of variables and values that are plainly secrets: they belong in files.
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY", re.IGNORECASE
)
SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|^Bearer\s+\S+|^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"
    r"|^(ghp|gho|github_pat|glpat|xox[abp])[-_][A-Za-z0-9_]{10,}|^AKIA[0-9A-Z]{16}$",
)
