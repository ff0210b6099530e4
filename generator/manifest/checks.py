"""Rules across the fields of one manifest (the schema checks each field alone)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from generator.manifest.checks_workload import check_workload, not_own_port
from generator.model import Config, PortRef, Service
from generator.network import cidr as nets
from generator.schema import Context

RESERVED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/managed-by")


def check_service(svc: Service, config: Config, ctx: Context) -> None:
    """Record every cross-field problem of one service."""
    if svc.ports and not svc.name[:1].isalpha():
        # A service that listens gets a Service object, whose name Kubernetes wants as a
        # DNS-1035 label: a letter first.
        ctx.fail("metadata.name", "names a Service, so it must start with a letter (DNS-1035)")
    _check_resources(svc, ctx)
    _check_name_length(svc, ctx)
    for key, _ in svc.labels:
        if key in RESERVED_LABELS:
            ctx.fail(
                f"metadata.labels.{key}", "is set by cgen and used as a policy selector", key=True
            )
    _check_ports(svc, ctx)
    check_workload(svc, ctx)
    _check_dependencies(svc, config, ctx)
    _check_ingress(svc, config, ctx)
    mounts: dict[str, str] = {}
    for i, path in enumerate(svc.writable_paths):
        mounts.setdefault(path, f"spec.writablePaths[{i}]")
    for i, secret in enumerate(svc.secrets):
        keypath = f"spec.secrets[{i}].mountPath"
        if secret.mount_path in mounts:
            ctx.fail(
                keypath, f"{secret.mount_path} is already mounted by {mounts[secret.mount_path]}"
            )
        mounts.setdefault(secret.mount_path, keypath)
    for _, probe in svc.probes:
        port = svc.port(probe.port)
        if port is None:
            ctx.fail(f"{probe.keypath}.port", not_own_port(svc, probe.port))
        elif port.protocol != "TCP":
            ctx.fail(
                f"{probe.keypath}.port", f"probes need a TCP port; {port.name} is {port.protocol}"
            )


def _check_ports(svc: Service, ctx: Context) -> None:
    names: dict[str, int] = {}
    numbers: dict[tuple[int, str], int] = {}
    service_ports: dict[tuple[int, str], int] = {}
    for i, port in enumerate(svc.ports):
        if port.name in names:
            ctx.fail(f"spec.ports[{i}].name", f"repeats the name of spec.ports[{names[port.name]}]")
        repeated = (port.port, port.protocol) in numbers
        if repeated:
            first = numbers[(port.port, port.protocol)]
            ctx.fail(
                f"spec.ports[{i}].port",
                f"repeats {port.port}/{port.protocol} of spec.ports[{first}]",
            )
        other = service_ports.get((port.service_port, port.protocol))
        if other is not None and svc.doc.has(f"spec.ports[{i}].servicePort"):
            ctx.fail(
                f"spec.ports[{i}].servicePort", f"repeats the servicePort of spec.ports[{other}]"
            )
        elif other is not None and not repeated:
            # No servicePort written: it is the port itself, which another port's takes.
            ctx.fail(
                f"spec.ports[{i}].port",
                f"is also the servicePort of spec.ports[{other}]; give this port a servicePort "
                "of its own",
            )
        names.setdefault(port.name, i)
        numbers.setdefault((port.port, port.protocol), i)
        service_ports.setdefault((port.service_port, port.protocol), i)


def _check_dependencies(svc: Service, config: Config, ctx: Context) -> None:
    raw = svc.doc.data["spec"].get("dependencies", [])
    for i, dep in enumerate(raw):
        keypath = f"spec.dependencies[{i}]"
        if "service" in dep:
            for key in ("cidrs", "protocol"):
                if key in dep:
                    ctx.fail(f"{keypath}.{key}", "applies to host and cidr entries only", key=True)
            continue
        if "namespace" in dep:
            ctx.fail(f"{keypath}.namespace", "applies to service entries only", key=True)
        if "ports" not in dep:
            ctx.fail(f"{keypath}.ports", "is required for host and cidr entries")
        for j, port in enumerate(dep.get("ports", [])):
            if not isinstance(port, int):
                ctx.fail(f"{keypath}.ports[{j}]", "must be a port number for host and cidr entries")
        if "cidr" in dep and "cidrs" in dep:
            ctx.fail(f"{keypath}.cidrs", "applies to host entries only; use cidr", key=True)
        for j, cidr in enumerate((dep["cidr"],) if "cidr" in dep else dep.get("cidrs", ())):
            where = f"{keypath}.cidr" if "cidr" in dep else f"{keypath}.cidrs[{j}]"
            _check_not_excluded(cidr, where, config.excluded_networks(), ctx)
        if "host" in dep and "cidrs" not in dep and config.dialect != "cilium":
            ctx.fail(
                f"{keypath}.cidrs",
                "is required for a host with the kubernetes dialect, which cannot match DNS "
                "names: list the host's networks in cidrs, or set dialect: cilium in "
                "cgen.yaml to allow it by name (toFQDNs)",
            )


ROLE_KEYS = {"ingress-controller": "ingressController", "metrics-scraper": "metricsScraper"}


def _check_ingress(svc: Service, config: Config, ctx: Context) -> None:
    roles = {
        "ingress-controller": config.ingress_controller,
        "metrics-scraper": config.metrics_scraper,
    }
    for port in svc.ports:
        if port.scrape and config.metrics_scraper is None:
            ctx.fail(f"{port.keypath}.scrape", "needs metricsScraper in cgen.yaml")
    if svc.ingress and not svc.ports:
        ctx.fail("spec.ingress", "this service listens on no port, so no caller can reach it")
    for rule in svc.ingress:
        source = f"{rule.keypath}.from"
        _check_port_refs(svc, rule.ports or (), f"{rule.keypath}.ports", ctx)
        if rule.role is not None:
            if roles[rule.role] is None:
                ctx.fail(source, f"{rule.role} needs {ROLE_KEYS[rule.role]} in cgen.yaml")
            continue
        if rule.cidr and (rule.namespace or rule.pod_labels):
            ctx.fail(source, "a cidr source cannot be combined with namespace or podLabels")
        if not rule.cidr and rule.except_:
            ctx.fail(f"{source}.except", "applies to cidr sources only", key=True)
        if rule.cidr:
            cluster = [(k, c) for k, c in config.excluded_networks() if k != "egressExcept"]
            _check_not_excluded(rule.cidr, f"{source}.cidr", cluster, ctx)
            _check_excepts(rule.cidr, rule.except_, f"{source}.except", ctx)
        if not (rule.cidr or rule.namespace or rule.pod_labels):
            ctx.fail(source, "needs namespace, podLabels or cidr")


def _check_port_refs(svc: Service, refs: tuple[PortRef, ...], keypath: str, ctx: Context) -> None:
    for j, ref in enumerate(refs):
        if svc.port(ref) is None:
            ctx.fail(f"{keypath}[{j}]", not_own_port(svc, ref))


def _check_not_excluded(
    cidr: str, keypath: str, excluded: list[tuple[str, str]], ctx: Context
) -> None:
    # A network inside an excluded one could only be allowed by dropping the exclusion,
    # which would silently open cluster or metadata addresses: refuse it instead.
    for key, text in excluded:
        if nets.within(cidr, text):
            relation = "is" if nets.within(text, cidr) else "lies inside"
            spelled = "" if nets.canonical(cidr) == cidr else f" (that is {nets.canonical(cidr)})"
            ctx.fail(
                keypath,
                f"{cidr}{spelled} {relation} {text} ({key} in cgen.yaml), which is never "
                "allowed as an external network: reach cluster workloads as cgen services "
                "(dependencies, or ingress by namespace and podLabels), or change cgen.yaml",
            )
            return


def _check_excepts(cidr: str, excepts: tuple[str, ...], keypath: str, ctx: Context) -> None:
    for j, text in enumerate(excepts):
        if not nets.strictly_within(text, cidr):
            ctx.fail(f"{keypath}[{j}]", f"{text} is not strictly inside {cidr}")


_SUFFIXES = {"m": Decimal("0.001"), "k": Decimal(1000), "M": Decimal(1000) ** 2}
_SUFFIXES |= {"G": Decimal(1000) ** 3, "T": Decimal(1000) ** 4, "Ki": Decimal(1024)}
_SUFFIXES |= {"Mi": Decimal(1024) ** 2, "Gi": Decimal(1024) ** 3, "Ti": Decimal(1024) ** 4}


def quantity(text: str) -> Decimal | None:
    """A Kubernetes quantity as a number (the forms the contract allows), else None."""
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], _SUFFIXES[suffix]
            break
    else:
        scale = Decimal(1)
    try:
        return Decimal(text) * scale
    except InvalidOperation:
        return None


def _check_resources(svc: Service, ctx: Context) -> None:
    # The API server refuses a container whose request exceeds its limit.
    requests = svc.resources.get("requests", {})
    limits = svc.resources.get("limits", {})
    for key in sorted(set(requests) & set(limits)):
        low, high = quantity(requests[key]), quantity(limits[key])
        if low is not None and high is not None and low > high:
            ctx.fail(
                f"spec.resources.requests.{key}",
                f"{requests[key]} is more than the limit {limits[key]} (Kubernetes refuses it)",
            )


def _check_name_length(svc: Service, ctx: Context) -> None:
    # Names that Kubernetes extends: a CronJob's Jobs append 11 characters to a 63-character
    # label, and a StatefulSet's pods carry controller-revision-hash=<name>-<10-char hash>
    # (a label value, at most 63); both cap the name at 52.
    if svc.job is not None and svc.job.schedule is not None:
        kind = "a CronJob"
    elif svc.stateful:
        kind = "a StatefulSet"
    else:
        return
    if len(svc.name) > 52:
        ctx.fail("metadata.name", f"names {kind}, so it must be at most 52 characters")
