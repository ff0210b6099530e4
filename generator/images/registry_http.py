"""The HTTP under the registry client: one GET with a size cap, a whole-exchange deadline
and nothing but plain visible characters in the headers cgen sends.

urllib's timeout bounds each socket operation, not the exchange: a server that sends one
byte a second would hold a request for ever. Here a timer shuts the sockets down when the
deadline passes, which wakes any blocked read.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from generator.errors import UserError

# Index types first: a multi-platform tag must be pinned by its index digest, not by the
# digest of whichever platform's manifest a registry would pick without these headers.
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
# The OCI distribution spec lets registries refuse manifests over 4 MiB; a token is a few
# KiB. Anything longer is not an answer cgen reads into memory.
MAX_BODY = 4 << 20
# What may travel in a header cgen sends: visible ASCII, no CR/LF that would split it.
HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class RegistryError(UserError):
    """A registry could not tell a digest (unreachable, unknown tag, refused credentials)."""


class HostError(RegistryError):
    """The registry host failed as a whole (unreachable, or no complete answer in time):
    every other image on it would fail alike, so `cgen pin` says it once."""

    def __init__(self, where: str, host: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.host = host
        self.problem = problem


class Expired(Exception):
    """The deadline for one image passed while a request was under way."""


def shown(text: str) -> str:
    """Text from a registry, safe to print: control characters escaped, length bounded."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:200])


def http_get(
    url: str, auth: str | None, deadline: float, where: str, accept: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET; HTTP errors are answers (status, lower-cased headers, body), not raises.

    The whole exchange (connect, headers, body, redirects) ends by the deadline: a timer
    shuts the socket down, which wakes any read that a dripping server keeps waiting.
    """
    import http.client
    import time
    import urllib.error
    import urllib.request

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Expired
    if auth is not None and not HEADER_SAFE.fullmatch(auth.replace(" ", "!", 1)):
        raise RegistryError(f"{where}: refusing to send credentials with control characters")
    request = urllib.request.Request(url, method="GET")
    request.add_header("Accept", accept or ", ".join(MANIFEST_TYPES))
    request.add_header("User-Agent", "cgen-pin")
    if auth:
        # Unredirected: a redirect to blob storage must not carry the registry's credentials.
        request.add_unredirected_header("Authorization", auth)
    watch = _Watch(deadline)
    opener = urllib.request.build_opener(*watch.handlers())
    try:
        response: Any
        try:
            response = opener.open(request, timeout=remaining)
        except urllib.error.HTTPError as err:
            response = err
        with response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_BODY:
                raise RegistryError(f"{where}: the answer is larger than {MAX_BODY} bytes")
            body = response.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise RegistryError(f"{where}: the answer is larger than {MAX_BODY} bytes")
            status = int(response.status or 0)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if watch.expired:
            raise Expired from None
        if isinstance(exc, OSError):
            raise
        raise RegistryError(f"{where}: a broken HTTP answer ({shown(str(exc))})") from None
    finally:
        watch.stop()
    if watch.expired:
        raise Expired
    return status, headers, body


class _Watch:
    """Shuts down every socket a request opens once the deadline passes."""

    def __init__(self, deadline: float) -> None:
        import threading
        import time

        self.expired = False
        self._sockets: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        import socket

        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def track(self, sock: Any) -> None:
        """Watch one more socket (shut it down at once when already expired)."""
        with self._lock:
            self._sockets.append(sock)
        if self.expired:
            self._expire()

    def stop(self) -> None:
        """The request is over: no more shutdowns."""
        self._timer.cancel()

    def handlers(self) -> list[Any]:
        """urllib handlers whose connections report their sockets to this watch."""
        import http.client
        import urllib.request

        watch = self

        class _Http(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                watch.track(self.sock)

        class _Https(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                watch.track(self.sock)

        class HttpHandler(urllib.request.HTTPHandler):
            def http_open(self, req: Any) -> Any:
                return self.do_open(_Http, req)

        class HttpsHandler(urllib.request.HTTPSHandler):
            def https_open(self, req: Any) -> Any:
                return self.do_open(_Https, req)

        return [HttpHandler(), HttpsHandler()]
