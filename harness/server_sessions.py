"""Real work by real clients against the servers of runc_servers.py.

Each session drives one server: psql, redis-cli, curl, a memcached text-protocol client,
the mariadb client and an AMQP client (pika) run on the host inside the container's
network namespace. `run_session` starts the server, runs its session, stops it with
SIGTERM (it must exit 0) and, for the servers with data to keep, starts it again on the
same claim and checks the data.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from runc_harness import HarnessError
from runc_servers import PASSWORD, Layout, Running, ServerError, Workload, started

PORTS = {
    "postgresql": 5432,
    "redis": 6379,
    "nginx": 8080,
    "memcached": 11211,
    "mariadb": 3306,
    "rabbitmq": 5672,
}
# Servers whose data must survive a stop and a start (the claim outlives the container).
RESTARTED = ("postgresql", "redis", "mariadb", "rabbitmq")


def with_secrets(w: Workload) -> Workload:
    """The Secret behind every `*_PASSWORD_FILE` the workload's environment names (the
    manifest declares the secret mount; its data is the test's password)."""
    secrets = {k: dict(v) for k, v in w.secrets.items()}
    for key, value in w.env.items():
        if key.endswith("_PASSWORD_FILE"):
            folder, _, fname = value.rpartition("/")
            secrets.setdefault(folder, {})[fname] = PASSWORD
    return replace(w, secrets=secrets)


def _check(proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        raise ServerError(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def _psql(r: Running, sql: str) -> subprocess.CompletedProcess[str]:
    argv = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1"]
    return r.client(
        [*argv, "-At", "-c", sql], env={"PGPASSWORD": PASSWORD, "PGCONNECT_TIMEOUT": "5"}
    )


def _postgresql(r: Running, first: bool) -> None:
    r.wait_until(lambda: _psql(r, "SELECT 1").returncode == 0)
    if first:
        sql = (
            "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, payload bytea);"
            "INSERT INTO items (name, payload) SELECT 'item-' || g, decode(md5(g::text), 'hex')"
            " FROM generate_series(1, 20000) g;"
            "CREATE INDEX items_name ON items (name);"
            "UPDATE items SET name = name || '-x' WHERE id % 10 = 0;"
            "DELETE FROM items WHERE id > 19000;"
        )
        _check(_psql(r, sql), "psql writes")
        _check(_psql(r, "VACUUM ANALYZE items"), "psql vacuum")
        _check(_psql(r, "CHECKPOINT"), "psql checkpoint")
    out = _check(_psql(r, "SELECT count(*), max(name) FROM items WHERE id <= 100"), "psql read")
    if out.strip() != "100|item-99":
        raise ServerError(f"postgresql lost data: {out!r}")
    if _check(_psql(r, "SELECT count(*) FROM items"), "psql count").strip() != "19000":
        raise ServerError("postgresql row count changed")


def _redis_cli(r: Running, *args: str, stdin: str | None = None) -> str:
    return _check(
        r.client(["redis-cli", "-h", "127.0.0.1", "-p", "6379", *args], stdin=stdin), "redis-cli"
    )


def _redis(r: Running, first: bool) -> None:
    r.wait_until(
        lambda: r.client(["redis-cli", "-h", "127.0.0.1", "PING"]).stdout.strip() == "PONG"
    )
    if first:
        _redis_cli(r, "SET", "greeting", "hello")
        bulk = "".join(f"SET key:{i} value-{i}\n" for i in range(5000))
        _redis_cli(r, "--pipe", stdin=bulk)
        _redis_cli(r, "HSET", "user:1", "name", "ada", "lang", "en")
        _redis_cli(r, "RPUSH", "queue", "a", "b", "c")
        _redis_cli(r, "INCRBY", "counter", "42")
        _redis_cli(r, "SET", "ephemeral", "x", "EX", "600")
        _redis_cli(r, "BGSAVE")
        r.wait_until(lambda: "rdb_bgsave_in_progress:0" in _redis_cli(r, "INFO", "persistence"))
        _redis_cli(r, "BGREWRITEAOF")
        r.wait_until(
            lambda: (
                "aof_rewrite_in_progress:0" in _redis_cli(r, "INFO", "persistence")
                and "aof_rewrite_scheduled:0" in _redis_cli(r, "INFO", "persistence")
            )
        )
        _redis_cli(r, "SET", "after-rewrite", "yes")
    got = [
        _redis_cli(r, "GET", "greeting").strip(),
        _redis_cli(r, "GET", "key:4999").strip(),
        _redis_cli(r, "HGET", "user:1", "name").strip(),
        _redis_cli(r, "LRANGE", "queue", "0", "-1").split(),
        _redis_cli(r, "GET", "counter").strip(),
        _redis_cli(r, "GET", "after-rewrite").strip(),
    ]
    if got != ["hello", "value-4999", "ada", ["a", "b", "c"], "42", "yes"]:
        raise ServerError(f"redis lost data: {got}")


def nginx_config_with_proxy(conf: str) -> str:
    """The profile's nginx.conf plus a location proxied to a second server block."""
    upstream = (
        "    server {\n        listen 127.0.0.1:8081;\n"
        '        return 200 "upstream $request_uri\\n";\n    }\n'
    )
    proxied = (
        "location /proxy/ {\n            proxy_pass http://127.0.0.1:8081/;\n        }\n"
        "        location = /healthz {"
    )
    anchor = "location = /healthz {"
    if anchor not in conf or not conf.rstrip().endswith("}"):
        raise HarnessError("nginx.conf has no /healthz location to add the proxy beside")
    body = conf.rstrip()[:-1].replace(anchor, proxied, 1)
    return f"{body}{upstream}}}\n"


def _curl(r: Running, path: str) -> str:
    return _check(r.client(["curl", "-sS", "-f", f"http://127.0.0.1:8080{path}"]), f"curl {path}")


def _nginx(r: Running, first: bool) -> None:
    index = _curl(r, "/index.html")
    if "nginx" not in index:
        raise ServerError(f"unexpected index page {index[:200]!r}")
    if _curl(r, "/healthz") != "ok\n":
        raise ServerError("healthz")
    if _curl(r, "/proxy/items?id=7") != "upstream /items?id=7\n":
        raise ServerError("proxied request")
    missing = r.client(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8080/nope"]
    )
    if missing.stdout != "404":
        raise ServerError(f"expected 404, got {missing.stdout!r}")
    big = "x" * 300_000
    post = r.client(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-binary",
            "@-",
            "http://127.0.0.1:8080/proxy/upload",
        ],
        stdin=big,
    )
    if post.stdout != "200":
        raise ServerError(f"proxied upload (temp file) got {post.stdout!r}: {post.stderr}")


_MEMCACHED_CLIENT = r"""
import socket
s = socket.create_connection(("127.0.0.1", 11211), timeout=10)
f = s.makefile("rwb")
def cmd(line, data=None):
    f.write(line.encode() + b"\r\n")
    if data is not None:
        f.write(data + b"\r\n")
    f.flush()
    return f.readline().decode().strip()
assert cmd("set greeting 0 0 5", b"hello") == "STORED"
for i in range(2000):
    assert cmd(f"set key:{i} 0 600 {len(str(i))}", str(i).encode()) == "STORED"
big = b"y" * 500000
assert cmd(f"set big 0 0 {len(big)}", big) == "STORED"
assert cmd("get greeting") == "VALUE greeting 0 5"
assert f.readline().strip() == b"hello" and f.readline().strip() == b"END"
assert cmd("set n 0 0 1", b"5") == "STORED" and cmd("incr n 37") == "42"
assert cmd("delete key:7") == "DELETED" and cmd("get key:7") == "END"
f.write(b"get big\r\n"); f.flush()
head = f.readline(); body = f.read(len(big) + 2); end = f.readline()
assert head.startswith(b"VALUE big") and body[:-2] == big and end.strip() == b"END"
f.write(b"stats\r\n"); f.flush()
stats = {}
while (line := f.readline().decode().strip()) != "END":
    _, k, v = line.split(" ", 2); stats[k] = v
assert int(stats["curr_items"]) >= 2000, stats
print("memcached ok", stats["curr_items"])
"""


def _memcached(r: Running, first: bool) -> None:
    out = _check(r.client(["/usr/bin/python3", "-c", _MEMCACHED_CLIENT]), "memcached client")
    if "memcached ok" not in out:
        raise ServerError(out)


def _mariadb_sql(r: Running, sql: str) -> subprocess.CompletedProcess[str]:
    argv = [
        "mariadb",
        "-h",
        "127.0.0.1",
        "-P",
        "3306",
        "-u",
        "root",
        "--batch",
        "--skip-column-names",
    ]
    return r.client([*argv, "-e", sql], env={"MYSQL_PWD": PASSWORD})


def _mariadb(r: Running, first: bool) -> None:
    r.wait_until(lambda: _mariadb_sql(r, "SELECT 1").returncode == 0)
    if first:
        sql = (
            "CREATE DATABASE shop; USE shop;"
            "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(64), qty INT,"
            " KEY (item)) ENGINE=InnoDB;"
            "INSERT INTO orders (item, qty)"
            " SELECT CONCAT('item-', seq), seq % 7 FROM seq_1_to_5000;"
            "UPDATE orders SET qty = qty + 1 WHERE id % 3 = 0;"
            "CREATE TEMPORARY TABLE t AS"
            " SELECT item, SUM(qty) s FROM orders GROUP BY item ORDER BY s;"
            "DELETE FROM orders WHERE id > 4000;"
            "OPTIMIZE TABLE orders;"
        )
        _check(_mariadb_sql(r, sql), "mariadb writes")
    out = _check(_mariadb_sql(r, "SELECT COUNT(*), MAX(id) FROM shop.orders"), "mariadb read")
    if out.split() != ["4000", "4000"]:
        raise ServerError(f"mariadb lost data: {out!r}")


# Run 1 publishes 500 persistent messages (publisher confirms) to a durable queue and
# consumes half; run 2, after a restart on the same claim, must find the other half.
_AMQP_CLIENT = r"""
import sys
import pika
first = sys.argv[1] == "first"
conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672, "/",
    pika.PlainCredentials("guest", "guest"), connection_attempts=30, retry_delay=1))
ch = conn.channel()
ch.confirm_delivery()
ch.queue_declare("orders", durable=True)
if first:
    for i in range(500):
        ch.basic_publish("", "orders", f"order-{i}".encode(),
                         pika.BasicProperties(delivery_mode=2), mandatory=True)
want = [f"order-{i}" for i in (range(250) if first else range(250, 500))]
got = []
for method, _props, body in ch.consume("orders", inactivity_timeout=10):
    if method is None:
        break
    got.append(body.decode())
    ch.basic_ack(method.delivery_tag)
    if len(got) == len(want):
        break
ch.cancel()
assert got == want, (got[:3], len(got))
if not first:
    ch.queue_delete("orders")
conn.close()
print("amqp ok")
"""


def _rabbitmq(r: Running, first: bool) -> None:
    argv = ["/usr/bin/python3", "-c", _AMQP_CLIENT, "first" if first else "again"]
    out = _check(r.client(argv), "AMQP client")
    if "amqp ok" not in out:
        raise ServerError(out)


DRIVERS: dict[str, Callable[[Running, bool], None]] = {
    "postgresql": _postgresql,
    "redis": _redis,
    "nginx": _nginx,
    "memcached": _memcached,
    "mariadb": _mariadb,
    "rabbitmq": _rabbitmq,
}


def run_session(
    layout: Layout,
    seccomp: Mapping[str, Any] | None,
    trace_dir: Path | None = None,
    *,
    lose_claim: bool = False,
) -> list[Path]:
    """Start the server, drive it with its client, stop it with SIGTERM (exit 0); start
    it again on the same claim and check the data where it must persist. Returns the
    strace files of a traced session. `lose_claim` gives the second start an empty
    claim instead (what an emptyDir would do): the data check must then fail."""
    name = layout.workload.name
    layout.prepare()
    traces: list[Path] = []
    for phase in range(2 if name in RESTARTED else 1):
        if phase and lose_claim:
            layout.empty_claims()
        trace = None if trace_dir is None else trace_dir / f"{name}-{phase}.strace"
        with started(layout, seccomp, trace=trace) as r:
            try:
                r.wait_port(PORTS[name])
                DRIVERS[name](r, phase == 0)
            except ServerError as exc:
                raise ServerError(f"{name}, run {phase + 1}: {exc}\n{r.output}") from exc
            code = r.stop()
            if code != 0:
                raise ServerError(f"{name} exited {code} after SIGTERM\n{r.output}")
        if trace is not None:
            traces.append(trace)
    return traces
