"""psycopg 3 against a real PostgreSQL over its unix socket: DDL, inserts, a query."""

import sys

import psycopg

params = {"host": sys.argv[1], "port": int(sys.argv[2]), "user": "postgres", "dbname": "postgres"}
with psycopg.connect(**params) as conn, conn.cursor() as cur:  # type: ignore[arg-type]
    cur.execute("CREATE TEMP TABLE items (id serial PRIMARY KEY, name text)")
    cur.executemany("INSERT INTO items (name) VALUES (%s)", [(f"n{i}",) for i in range(20)])
    cur.execute("SELECT count(*), max(name) FROM items")
    count, top = cur.fetchone()  # type: ignore[misc]
assert count == 20 and top == "n9", (count, top)
print("CORPUS OK", flush=True)
