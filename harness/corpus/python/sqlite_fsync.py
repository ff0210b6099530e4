"""sqlite3 with a write-ahead log and full fsync on every commit."""

import sqlite3

db = sqlite3.connect("corpus.db")
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
for i in range(50):
    db.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
    db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
(count,) = db.execute("SELECT count(*) FROM t").fetchone()
db.close()
assert count >= 50, count
print("CORPUS OK", flush=True)
