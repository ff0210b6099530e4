"""Stdlib http.server serving files from its working directory (a writable path)."""

import http.server
import os
import threading
import urllib.request

with open("index.html", "w") as f:
    f.write("hello from http.server\n")
    f.flush()
    os.fsync(f.fileno())
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
body = urllib.request.urlopen(url, timeout=10).read().decode()
assert body == "hello from http.server\n", body
server.shutdown()
print("CORPUS OK", flush=True)
