"""A small OCI distribution API client: resolve an image tag to the digest it points to.

What `cgen pin` needs and nothing more: one manifest GET per image (the bytes are hashed:
the digest pinned is the one of what was received, checked against the registry's
Docker-Content-Digest), answered with the registry's anonymous bearer-token flow as Docker
Hub, GHCR, gcr.io and MCR use it (`WWW-Authenticate: Bearer realm=...,service=...,
scope=...`), or with credentials from the
usual Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths`,
`credHelpers`, `credsStore`). Plain http is used only for loopback registries and hosts the
user names explicitly. Only the standard library; urllib/ssl/json are imported on use so
that `cgen render` does not pay for them.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.images.lock import DIGEST, DOCKER_HUB, Reference
from generator.images.registry_http import (
    HEADER_SAFE,
    MANIFEST_TYPES,
    Expired,
    HostError,
    RegistryError,
    http_get,
    shown,
)

API_HOSTS = {DOCKER_HUB: "registry-1.docker.io"}
HUB_AUTH_KEY = "https://index.docker.io/v1/"
LOOPBACK = re.compile(r"^(localhost|127(\.[0-9]{1,3}){3}|\[::1\])(:[0-9]+)?$")
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_]+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    """A user name and secret (password or token) for one registry."""

    username: str
    secret: str

    def basic(self) -> str:
        """The value of an HTTP Basic Authorization header."""
        raw = f"{self.username}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def _auth_key(host: str) -> str:
    """How a registry host is spelled in a Docker config's auths and credHelpers."""
    return HUB_AUTH_KEY if host == DOCKER_HUB else host


def _normal_host(key: str) -> str:
    host = re.sub(r"^[a-z]+://", "", key).split("/", 1)[0]
    return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io") else host


@dataclass(frozen=True)
class DockerConfig:
    """Registry credentials as `docker login` stores them."""

    auths: dict[str, Credentials] = field(default_factory=dict)
    helpers: dict[str, str] = field(default_factory=dict)
    store: str | None = None

    @classmethod
    def load(cls, environ: dict[str, str] | None = None) -> DockerConfig:
        """Read $DOCKER_CONFIG/config.json or ~/.docker/config.json; empty when absent."""
        import json

        env = os.environ if environ is None else environ
        folder = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else None
        if folder is None:
            folder = Path(env.get("HOME") or Path.home()) / ".docker"
        path = folder / "config.json"
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{path}: not a readable Docker config: {exc}") from None
        if not isinstance(data, dict):
            raise RegistryError(f"{path}: not a Docker config (expected a JSON object)")
        auths: dict[str, Credentials] = {}
        for key, entry in (data.get("auths") or {}).items():
            creds = _entry_credentials(entry)
            if creds is not None:
                auths[_normal_host(key)] = creds
        helpers = {_normal_host(k): str(v) for k, v in (data.get("credHelpers") or {}).items()}
        store = data.get("credsStore")
        return cls(auths, helpers, str(store) if store else None)

    def credentials(self, host: str) -> Credentials | None:
        """Credentials for a registry host: a helper's answer, else the stored auth."""
        helper = self.helpers.get(host) or (self.store if host not in self.auths else None)
        if helper:
            return _from_helper(helper, _auth_key(host))
        return self.auths.get(host)


def _entry_credentials(entry: Any) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    if entry.get("auth"):
        try:
            user, _, secret = base64.b64decode(str(entry["auth"])).decode().partition(":")
        except ValueError:
            return None
        return Credentials(user, secret)
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]))
    return None


def _from_helper(helper: str, server: str) -> Credentials | None:
    """Ask docker-credential-<helper> (the credential helper protocol: `get`, host on stdin)."""
    import json
    import subprocess

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", helper):
        raise RegistryError(f"credential helper name {helper!r} is not a plain program name")
    try:
        proc = subprocess.run(
            [f"docker-credential-{helper}", "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RegistryError(f"credential helper docker-credential-{helper}: {exc}") from None
    if proc.returncode != 0:
        return None  # the helper knows no credentials for this server: go anonymous
    try:
        data = json.loads(proc.stdout)
        return Credentials(str(data["Username"]), str(data["Secret"]))
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"docker-credential-{helper} printed no credentials") from None


@dataclass
class Resolver:
    """Resolves image tags to digests, through mirrors, caching bearer tokens per scope."""

    mirrors: tuple[tuple[str, str], ...] = ()
    plain_http: frozenset[str] = frozenset()
    config: DockerConfig = field(default_factory=DockerConfig)
    timeout: float = 30.0
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def host_for(self, ref: Reference) -> str:
        """The registry host asked for ref: its pull-through mirror when one is configured."""
        return dict(self.mirrors).get(ref.registry, ref.registry)

    def api_host(self, image: str) -> str:
        """The host whose API is asked for image (registry-1.docker.io for docker.io)."""
        host = self.host_for(Reference.parse(image))
        return API_HOSTS.get(host, host)

    def digest(self, image: str) -> str:
        """The digest the image's tag points to now (an index digest for multi-platform tags).

        The manifest itself is fetched and hashed: the digest pinned is the one of the bytes
        received, which must also match what the registry claims (Docker-Content-Digest).
        All requests for one image together finish within the resolver's timeout.
        """
        ref = Reference.parse(image)
        if ref.digest:
            return ref.digest
        host = self.host_for(ref)
        path = f"/v2/{ref.repository}/manifests/{ref.tag or 'latest'}"
        where = f"{image} (via {host})" if host != ref.registry else image
        status, headers, body = self._request(host, path, ref.repository, where)
        if status == 404:
            raise RegistryError(f"{where}: the registry has no such tag")
        if status != 200:
            raise RegistryError(f"{where}: the registry answered HTTP {status}")
        return _verified(where, headers, body)

    def _schemes(self, host: str) -> list[str]:
        if host in self.plain_http or LOOPBACK.match(host):
            return ["https", "http"]  # as Docker does for insecure registries: TLS first
        return ["https"]

    def _request(
        self, host: str, path: str, repository: str, where: str
    ) -> tuple[int, dict[str, str], bytes]:
        """GET the manifest, authenticating on 401, within one deadline for the image."""
        import time

        api = API_HOSTS.get(host, host)
        deadline = time.monotonic() + self.timeout
        last: Exception | None = None
        for scheme in self._schemes(host):
            url = f"{scheme}://{api}{path}"
            try:
                return self._send(url, host, repository, where, deadline)
            except Expired:
                break
            except OSError as exc:  # URLError, ssl and socket errors are all OSErrors
                last = exc
        if time.monotonic() >= deadline or last is None:
            late = f"{api} sent no complete answer within {self.timeout:g} seconds (--timeout)"
            raise HostError(where, api, late)
        reason = getattr(last, "reason", last)
        raise HostError(where, api, f"cannot reach {api}: {shown(str(reason))}")

    def _send(
        self, url: str, host: str, repository: str, where: str, deadline: float
    ) -> tuple[int, dict[str, str], bytes]:
        scope = f"repository:{repository}:pull"
        token = self._tokens.get((host, scope))
        auth = f"Bearer {token}" if token else None
        status, headers, body = http_get(url, auth, deadline, where)
        if status == 401:
            challenge = headers.get("www-authenticate", "")
            auth = self._answer(challenge, host, scope, where, deadline)
            status, headers, body = http_get(url, auth, deadline, where)
            if status == 401:
                raise RegistryError(
                    f"{where}: {host} refused the credentials; run `docker login {host}` "
                    "or check $DOCKER_CONFIG"
                )
        return status, headers, body

    def _answer(self, challenge: str, host: str, scope: str, where: str, deadline: float) -> str:
        """Authorization for a 401 challenge: a bearer token from the realm, or Basic."""
        scheme = challenge.split(" ", 1)[0].lower()
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        creds = self.config.credentials(host)
        if scheme == "basic":
            if creds is None:
                raise RegistryError(f"{where}: {host} needs credentials: run `docker login {host}`")
            return creds.basic()
        if scheme != "bearer" or "realm" not in params:
            text = shown(challenge)
            raise RegistryError(f"{where}: unsupported authentication challenge {text}")
        import urllib.parse

        realm = params["realm"]
        if not HEADER_SAFE.fullmatch(realm):
            raise RegistryError(f"{where}: the token realm {shown(realm)} is not a plain URL")
        try:
            realm_host = urllib.parse.urlsplit(realm).netloc
        except ValueError:
            raise RegistryError(f"{where}: the token realm {shown(realm)} is not a URL") from None
        if not realm.startswith("https://") and not (
            realm_host in self.plain_http or LOOPBACK.match(realm_host)
        ):
            raise RegistryError(f"{where}: refusing a token realm without TLS: {realm}")
        query = {"scope": params.get("scope", scope)}
        if "service" in params:
            query["service"] = params["service"]
        token_url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        basic = creds.basic() if creds else None
        status, _, body = http_get(token_url, basic, deadline, where, accept="application/json")
        service = shown(realm_host)
        if status != 200:
            raise RegistryError(f"{where}: the token service {service} answered HTTP {status}")
        token = _token(body)
        if token is None:
            raise RegistryError(f"{where}: the token service {service} sent no token")
        if not HEADER_SAFE.fullmatch(token):
            # A CR/LF would split the Authorization header into headers of the token
            # service's choosing; http.client would refuse it with a traceback.
            raise RegistryError(
                f"{where}: the token service {shown} sent a token with spaces or control characters"
            )
        self._tokens[(host, scope)] = token
        return f"Bearer {token}"


def _token(body: bytes) -> str | None:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("token") or data.get("access_token")
    return str(value) if value else None


def _verified(where: str, headers: dict[str, str], body: bytes) -> str:
    """The sha256 digest of a manifest answer, after checking it is one (type, digest)."""
    import hashlib
    import json

    media = headers.get("content-type", "").split(";")[0].strip()
    if media not in MANIFEST_TYPES:
        what = shown(media) if media else "no Content-Type"
        raise RegistryError(f"{where}: not an image manifest or index ({what})")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("schemaVersion") != 2:
        raise RegistryError(f"{where}: the answer is not a schema 2 manifest or index")
    if data.get("mediaType", media) != media:
        raise RegistryError(f"{where}: the manifest's mediaType does not match its Content-Type")
    computed = "sha256:" + hashlib.sha256(body).hexdigest()
    claimed = headers.get("docker-content-digest", "").strip()
    if claimed:
        algorithm, _, _ = claimed.partition(":")
        if algorithm in ("sha256", "sha384", "sha512"):
            own = f"{algorithm}:" + hashlib.new(algorithm, body).hexdigest()
        else:
            own = ""
        if claimed != own:
            raise RegistryError(
                f"{where}: the registry's Docker-Content-Digest {shown(claimed)} does not "
                f"match the manifest it sent ({computed})"
            )
    if not re.fullmatch(DIGEST, computed):  # always true; the lock's own format check
        raise RegistryError(f"{where}: the registry sent no sha256 digest")
    return computed


def resolver(
    mirrors: tuple[tuple[str, str], ...], plain_http: Iterable[str], timeout: float = 30.0
) -> Resolver:
    """A resolver with the user's Docker credentials loaded."""
    return Resolver(mirrors, frozenset(plain_http), DockerConfig.load(), timeout)
