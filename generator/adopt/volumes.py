"""Volumes and security settings of a pod: what cgen keeps, and what it takes away."""

from __future__ import annotations

from typing import Any

from generator.adopt.kube import KObject
from generator.adopt.notes import Notes
from generator.workload.podsecurity import LEVELS, capability_level

_CAP_DEFAULT_NOTE = (
    "the container runtime's default capabilities (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, "
    "SETGID, NET_RAW, ...): cgen drops ALL"
)


def mounts(
    obj: KObject,
    pod: dict[str, Any],
    container: dict[str, Any],
    at: str,
    config_maps: dict[tuple[str, str], dict[str, str]],
    secret_mounts: dict[str, str],
    notes: Notes,
) -> dict[str, Any]:
    """writablePaths, config and storage from the container's volume mounts."""
    volumes = {str(v.get("name")): v for v in pod.get("volumes") or []}
    claims = {
        str((c.get("metadata") or {}).get("name")): c
        for c in (obj.body.get("spec") or {}).get("volumeClaimTemplates") or []
    }
    writable: list[str] = []
    config: list[dict[str, Any]] = []
    storage: list[dict[str, Any]] = []
    for i, mount in enumerate(container.get("volumeMounts") or []):
        name, path = str(mount.get("name")), str(mount.get("mountPath"))
        where = obj.at(f"{at}.volumeMounts[{i}]")
        volume = volumes.get(name, {})
        if name in claims:
            spec = claims[name].get("spec") or {}
            size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            entry: dict[str, Any] = {"name": name, "mountPath": path, "size": str(size)}
            if spec.get("storageClassName"):
                entry["storageClass"] = str(spec["storageClassName"])
            storage.append(entry)
        elif "emptyDir" in volume:
            writable.append(path)
        elif "secret" in volume:
            secret_mounts[str((volume["secret"] or {}).get("secretName"))] = path
        elif "configMap" in volume:
            cm = str((volume["configMap"] or {}).get("name"))
            data = config_maps.get((obj.namespace, cm))
            if data is None:
                notes.add("unsupported", f"volume {name}: ConfigMap {cm} not in the input", where)
                continue
            files = {k: v for k, v in sorted(data.items())}
            # cgen names a config's ConfigMap <workload>-<config>: keep that name.
            short = cm.removeprefix(f"{obj.name}-") if cm != f"{obj.name}-" else name
            config.append({"name": short, "mountPath": path, "files": files})
            notes.add("inferred", f"config {name} from ConfigMap {cm}", where)
        else:
            kinds = ", ".join(k for k in volume if k != "name") or "unknown"
            notes.add("unsupported", f"volume {name} ({kinds}) at {path}", where)
    out: dict[str, Any] = {}
    if writable:
        out["writablePaths"] = sorted(writable)
    if config:
        out["config"] = config
    if storage:
        out["storage"] = storage
    return out


def security(
    obj: KObject, pod: dict[str, Any], container: dict[str, Any], at: str, notes: Notes
) -> list[str]:
    """The capabilities kept; every privilege dropped goes into the notes."""
    pod_at = at.rsplit(".containers", 1)[0]
    pod_ctx = pod.get("securityContext") or {}
    ctx = container.get("securityContext") or {}
    _user(obj, pod_ctx, ctx, at, notes)
    _pod_privileges(obj, pod, pod_at, notes)
    if ctx.get("privileged"):
        notes.add("dropped", "privileged container", obj.at(f"{at}.securityContext.privileged"))
    if ctx.get("allowPrivilegeEscalation") is not False:
        notes.add("dropped", "privilege escalation (setuid binaries) allowed", obj.at(at))
    if not ctx.get("readOnlyRootFilesystem"):
        notes.add(
            "dropped", "a writable root filesystem: only emptyDir paths stay writable", obj.at(at)
        )
    caps = ctx.get("capabilities") or {}
    if "ALL" not in [str(c) for c in caps.get("drop") or []]:
        notes.add("dropped", _CAP_DEFAULT_NOTE, obj.at(at))
    added = sorted({str(c).removeprefix("CAP_") for c in caps.get("add") or []})
    if added:
        level = max(map(capability_level, added), key=LEVELS.index)
        # Render refuses a capability above its namespace's Pod Security level until
        # cgen.yaml lowers that namespace on purpose; say so where the capability comes in.
        lower = (
            f" (Pod Security {level}: render needs podSecurity: {{{obj.namespace}: "
            f"{{level: {level}, reason: ...}}}} in cgen.yaml, or drop them)"
            if level != "restricted"
            else ""
        )
        notes.add(
            "inferred",
            f"capabilities {', '.join(added)}{lower}",
            obj.at(f"{at}.securityContext.capabilities.add"),
        )
    profile = (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile") or {}).get("type")
    if profile in (None, "Unconfined"):
        notes.add(
            "dropped",
            f"seccomp {profile or 'unset (Unconfined by default)'}: cgen "
            "installs a Localhost profile of the runtime's syscalls",
            obj.at(at),
        )
    return added


def _user(
    obj: KObject, pod_ctx: dict[str, Any], ctx: dict[str, Any], at: str, notes: Notes
) -> None:
    user = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
    non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
    if user == 0 or (user is None and not non_root):
        notes.add(
            "dropped",
            "may run as root (no runAsNonRoot): cgen runs a uid >= 10000",
            obj.at(f"{at}.securityContext"),
        )
    elif isinstance(user, int) and user < 10000:
        notes.add(
            "dropped",
            f"ran as uid {user}: cgen runs uid = gid >= 10000 (files the "
            "image gives that uid alone may become unreadable)",
            obj.at(f"{at}"),
        )


def _pod_privileges(obj: KObject, pod: dict[str, Any], pod_at: str, notes: Notes) -> None:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            notes.add("dropped", f"{key}: true", obj.at(f"{pod_at}.{key}"))
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            where = obj.at(f"{pod_at}.volumes")
            notes.add("dropped", f"hostPath volume {volume.get('name')}", where)
    if pod.get("automountServiceAccountToken") is not False:
        notes.add("dropped", "a mounted service-account token (API access)", obj.at(pod_at))
