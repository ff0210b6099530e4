"""A small OCI distribution API client: resolve an image tag to the digest it points to.

What `cgen pin` needs and nothing more: one manifest HEAD (or GET) per image, answered with
the registry's anonymous bearer-token flow as Docker Hub, GHCR, gcr.io and MCR use it
(`WWW-Authenticate: Bearer realm=...,service=...,scope=...`), or with credentials from the
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

from generator.errors import UserError
from generator.images.lock import DIGEST, DOCKER_HUB, Reference

# Index types first: a multi-platform tag must be pinned by its index digest, not by the
# digest of whichever platform's manifest a registry would pick without these headers.
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
API_HOSTS = {DOCKER_HUB: "registry-1.docker.io"}
HUB_AUTH_KEY = "https://index.docker.io/v1/"
LOOPBACK = re.compile(r"^(localhost|127(\.[0-9]{1,3}){3}|\[::1\])(:[0-9]+)?$")
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_]+)="([^"]*)"')


class RegistryError(UserError):
    """A registry could not tell a digest (unreachable, unknown tag, refused credentials)."""


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

    def digest(self, image: str) -> str:
        """The digest the image's tag points to now (an index digest for multi-platform tags)."""
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
        media = headers.get("content-type", "").split(";")[0].strip()
        if media and media not in MANIFEST_TYPES:
            raise RegistryError(f"{where}: not an image manifest or index ({media})")
        digest = headers.get("docker-content-digest", "")
        if body is not None:
            import hashlib

            computed = "sha256:" + hashlib.sha256(body).hexdigest()
            if digest and digest != computed:
                raise RegistryError(f"{where}: the registry's digest does not match the manifest")
            digest = computed
        if not re.fullmatch(DIGEST, digest):
            raise RegistryError(f"{where}: the registry sent no sha256 digest")
        return digest

    def _schemes(self, host: str) -> list[str]:
        if host in self.plain_http or LOOPBACK.match(host):
            return ["https", "http"]  # as Docker does for insecure registries: TLS first
        return ["https"]

    def _request(
        self, host: str, path: str, repository: str, where: str
    ) -> tuple[int, dict[str, str], bytes | None]:
        """HEAD the manifest (GET when no digest header comes back), authenticating on 401."""
        api = API_HOSTS.get(host, host)
        last: Exception | None = None
        for scheme in self._schemes(host):
            url = f"{scheme}://{api}{path}"
            try:
                status, headers, _ = self._send("HEAD", url, host, repository, where)
                if status == 200 and "docker-content-digest" in headers:
                    return status, headers, None
                if status in (200, 405):
                    return self._send("GET", url, host, repository, where)
                return status, headers, None
            except OSError as exc:  # URLError, ssl and socket errors are all OSErrors
                last = exc
        reason = getattr(last, "reason", last)
        raise RegistryError(f"{where}: cannot reach {api}: {reason}")

    def _send(
        self, method: str, url: str, host: str, repository: str, where: str
    ) -> tuple[int, dict[str, str], bytes | None]:
        scope = f"repository:{repository}:pull"
        token = self._tokens.get((host, scope))
        auth = f"Bearer {token}" if token else None
        status, headers, body = _http(method, url, auth, self.timeout)
        if status == 401:
            challenge = headers.get("www-authenticate", "")
            auth = self._answer(challenge, host, scope, url, where)
            status, headers, body = _http(method, url, auth, self.timeout)
            if status == 401:
                raise RegistryError(
                    f"{where}: {host} refused the credentials; run `docker login {host}` "
                    "or check $DOCKER_CONFIG"
                )
        return status, headers, body

    def _answer(self, challenge: str, host: str, scope: str, url: str, where: str) -> str:
        """Authorization for a 401 challenge: a bearer token from the realm, or Basic."""
        scheme = challenge.split(" ", 1)[0].lower()
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        creds = self.config.credentials(host)
        if scheme == "basic":
            if creds is None:
                raise RegistryError(f"{where}: {host} needs credentials: run `docker login {host}`")
            return creds.basic()
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"{where}: unsupported authentication challenge {challenge!r}")
        import urllib.parse

        realm = params["realm"]
        realm_host = urllib.parse.urlsplit(realm).netloc
        if not realm.startswith("https://") and not (
            realm_host in self.plain_http or LOOPBACK.match(realm_host)
        ):
            raise RegistryError(f"{where}: refusing a token realm without TLS: {realm}")
        query = {"scope": params.get("scope", scope)}
        if "service" in params:
            query["service"] = params["service"]
        token_url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        status, _, body = _http("GET", token_url, creds.basic() if creds else None, self.timeout)
        if status != 200 or body is None:
            raise RegistryError(f"{where}: the token service {realm_host} answered HTTP {status}")
        token = _token(body)
        if token is None:
            raise RegistryError(f"{where}: the token service {realm_host} sent no token")
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


def _http(
    method: str, url: str, auth: str | None, timeout: float
) -> tuple[int, dict[str, str], bytes | None]:
    """One request; HTTP errors are answers (status, lower-cased headers, body), not raises."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method=method)
    request.add_header("Accept", ", ".join(MANIFEST_TYPES))
    request.add_header("User-Agent", "cgen-pin")
    if auth:
        # Unredirected: a redirect to blob storage must not carry the registry's credentials.
        request.add_unredirected_header("Authorization", auth)
    response: Any
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        response = err
    with response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        body = response.read() if method == "GET" else None
        return int(response.status or 0), headers, body


def resolver(
    mirrors: tuple[tuple[str, str], ...], plain_http: Iterable[str], timeout: float = 30.0
) -> Resolver:
    """A resolver with the user's Docker credentials loaded."""
    return Resolver(mirrors, frozenset(plain_http), DockerConfig.load(), timeout)
