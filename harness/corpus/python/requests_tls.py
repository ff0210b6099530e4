"""requests over TLS to a local TLS server, the certificate checked against its CA file."""

import http.server
import os
import ssl
import sys
import threading

import requests

tls = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem"))


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"tls hello")

    def log_message(self, *args: object) -> None:
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"https://localhost:{server.server_address[1]}/"
with requests.Session() as session:
    reply = session.get(url, verify=os.path.join(tls, "cert.pem"), timeout=10)
assert reply.status_code == 200 and reply.text == "tls hello", reply
server.shutdown()
print("CORPUS OK", flush=True)
