"""redis-py against a real Redis over its unix socket: strings, a hash, a pipeline."""

import sys

import redis

r = redis.Redis(unix_socket_path=sys.argv[1], decode_responses=True)
r.set("corpus:k", "v", ex=60)
r.hset("corpus:h", mapping={"a": "1", "b": "2"})
with r.pipeline() as pipe:
    pipe.incr("corpus:n").incr("corpus:n").get("corpus:k")
    n, n2, k = pipe.execute()
assert (n2 - n, k, r.hget("corpus:h", "b")) == (1, "v", "2")
print("CORPUS OK", flush=True)
