"""Small HTTP service used to measure CPython's syscalls and to run it under seccomp.

Usage: python3 app.py CONFIG

Serves /healthz and /work on the configured port. /work resolves `localhost` through
getaddrinfo, talks to a TCP echo dependency, does a TLS handshake with a local TLS peer
(certificate from the config), and appends to a file under the writable state dir.
After start it drives itself (client threads), prints SELFCHECK OK, then waits for
SIGTERM and exits 0 after a graceful shutdown.
"""

from __future__ import annotations

import http.client
import http.server
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def read_config(path: Path) -> dict[str, str]:
    cfg: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            cfg[key.strip()] = value.strip()
    return cfg


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = self.request.recv(1024)
        self.request.sendall(data)


class TLSEchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        ctx: ssl.SSLContext = self.server.ssl_ctx  # type: ignore[attr-defined]
        with ctx.wrap_socket(self.request, server_side=True) as tls:
            tls.sendall(b"tls:" + tls.recv(1024))


class Threaded(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> int:
    # Block SIGTERM before any thread exists (threads inherit the mask) and take it
    # with sigtimedwait in the main thread: a handler would only run once the main
    # thread wakes up, and a SIGTERM delivered to another thread would not wake it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    cfg_path = Path(sys.argv[1])
    cfg = read_config(cfg_path)
    base = cfg_path.parent
    host = cfg["listen_host"]
    state = Path(cfg["state_dir"]) / f"python-workload-{os.getpid()}.log"

    echo = Threaded((host, 0), EchoHandler)
    tls_srv = Threaded((host, 0), TLSEchoHandler)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(base / cfg["tls_cert"], base / cfg["tls_key"])
    tls_srv.ssl_ctx = server_ctx  # type: ignore[attr-defined]
    client_ctx = ssl.create_default_context(cafile=str(base / cfg["tls_cert"]))
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/healthz":
                body = b"ok"
            elif self.path == "/work":
                info = socket.getaddrinfo(
                    "localhost", echo.server_address[1], socket.AF_INET, socket.SOCK_STREAM
                )
                ip, dep_port = str(info[0][4][0]), int(info[0][4][1])
                with socket.create_connection((ip, dep_port), timeout=5) as dep:
                    dep.sendall(b"ping")
                    echoed = dep.recv(1024)
                tls_addr = (host, tls_srv.server_address[1])
                with (
                    socket.create_connection(tls_addr, timeout=5) as raw,
                    client_ctx.wrap_socket(raw, server_hostname="localhost") as tls,
                ):
                    tls.sendall(b"hello")
                    tls_reply = tls.recv(1024)
                    version = tls.version()
                with lock, state.open("a") as f:
                    f.write(f"{self.path} {echoed!r} {tls_reply!r}\n")
                body = f"work ok echo={echoed.decode()} tls={tls_reply.decode()} {version}".encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer((host, int(cfg["port"])), Handler)
    httpd.daemon_threads = True
    servers: list[socketserver.BaseServer] = [echo, tls_srv, httpd]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    port = httpd.server_address[1]
    print(f"READY port={port} pid={os.getpid()}", flush=True)

    def get(path: str) -> str:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", path)
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status}")
        return text

    assert get("/healthz") == "ok"
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: get("/work"), range(int(cfg["requests"]))))
    assert all(r.startswith("work ok echo=ping tls=tls:hello") for r in results), results
    assert len(state.read_text().splitlines()) == len(results)
    print(f"SELFCHECK OK requests={len(results)} {results[0]}", flush=True)

    if signal.sigtimedwait({signal.SIGTERM}, float(cfg["max_lifetime_s"])) is None:
        print("no SIGTERM before max_lifetime_s", flush=True)
        return 3
    for s in servers:
        s.shutdown()
        s.server_close()
    for t in threads:
        t.join()
    state.unlink()
    print("SHUTDOWN OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
