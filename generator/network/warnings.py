"""Network settings that are legal but risky: reported as warnings, never errors."""

from __future__ import annotations

from generator.errors import Problem
from generator.model import Config, Service
from generator.network import cidr as nets

# Address ranges clusters commonly take their pod and Service networks from (RFC 1918,
# RFC 6598 shared space, IPv6 unique-local).
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")


def _overlaps_private(cidr: str) -> bool:
    return any(nets.overlaps(cidr, p) for p in PRIVATE)


def _everything(cidr: str) -> bool:
    # ::ffff:0.0.0.0/96 is 0.0.0.0/0 spelled as IPv6: judge the normalized network.
    return nets.network(cidr).prefixlen == 0


def network_warnings(config: Config, services: list[Service]) -> list[Problem]:
    """Warnings about reachability that is allowed but probably wider than meant."""
    warnings: list[Problem] = []
    managed = {s.namespace for s in services}
    for workload in config.unmanaged:
        if workload.namespace in managed and config.doc is not None:
            warnings.append(
                Problem(
                    config.doc.key_at(workload.keypath),
                    workload.keypath,
                    f"namespace {workload.namespace} holds cgen services, so cgen's default "
                    f"deny also isolates {workload.name}: its owners must allow its callers "
                    "with a NetworkPolicy of their own",
                )
            )
    cluster_known = bool(config.pod_cidrs or config.service_cidrs)
    for svc in services:
        for ext in svc.externals:
            for cidr in ext.cidrs:
                if _everything(cidr):
                    where = svc.doc.at(ext.keypath)
                    shown = nets.canonical(cidr)
                    warnings.append(
                        Problem(where, ext.keypath, f"egress to {shown} reaches every address")
                    )
            if not cluster_known and any(_overlaps_private(c) for c in ext.cidrs):
                warnings.append(
                    Problem(
                        svc.doc.at(ext.keypath),
                        ext.keypath,
                        "overlaps private address space where pods and Services may live; "
                        "set podCidrs and serviceCidrs in cgen.yaml so they are excluded",
                    )
                )
        for rule in svc.ingress:
            where = svc.doc.at(f"{rule.keypath}.from")
            keypath = f"{rule.keypath}.from"
            if rule.cidr and _everything(rule.cidr):
                shown = nets.canonical(rule.cidr)
                warnings.append(
                    Problem(where, keypath, f"ingress from {shown} accepts every address")
                )
            if rule.role is None and not rule.cidr and not rule.pod_labels:
                warnings.append(
                    Problem(where, keypath, f"every pod of namespace {rule.namespace} may call")
                )
            namespace = rule.namespace or svc.namespace
            if rule.role is None and not rule.cidr and namespace in managed:
                warnings.append(
                    Problem(
                        where,
                        keypath,
                        f"namespace {namespace} is under cgen's default deny: pods there that "
                        "are not cgen services cannot send; declare the caller as a cgen "
                        "service and list this one in its dependencies",
                    )
                )
    return warnings
