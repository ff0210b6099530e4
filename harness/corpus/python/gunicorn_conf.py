"""gunicorn: 2 sync workers; when ready, call the app and stop the arbiter with SIGTERM."""

import json
import os
import signal
import threading
import time
import urllib.request

bind = "127.0.0.1:18081"
workers = 2
worker_tmp_dir = os.environ.get("TMPDIR", "/tmp")
accesslog = "-"


def _check(arbiter_pid: int) -> None:
    for _ in range(100):
        try:
            body = urllib.request.urlopen("http://" + bind + "/items/7", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        os._exit(3)
    assert json.loads(body) == {"id": 7, "name": "item 7"}, body
    print("CORPUS OK", flush=True)
    os.kill(arbiter_pid, signal.SIGTERM)


def when_ready(server):  # type: ignore[no-untyped-def]
    threading.Thread(target=_check, args=(os.getpid(),), daemon=True).start()
