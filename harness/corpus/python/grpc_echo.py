"""grpcio: a server on a thread pool and a client on a channel, one unary and one
server-streaming method (generic handlers, raw bytes: no generated code needed)."""

from concurrent import futures

import grpc


def say(request: bytes, context: grpc.ServicerContext) -> bytes:
    return b"echo " + request


def count(request: bytes, context: grpc.ServicerContext):  # type: ignore[no-untyped-def]
    for i in range(int(request)):
        yield str(i).encode()


handlers = grpc.method_handlers_generic_handler(
    "corpus.Echo",
    {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
    },
)
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((handlers,))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
    reply = channel.unary_unary("/corpus.Echo/Say")(b"hi", timeout=10)
    streamed = list(channel.unary_stream("/corpus.Echo/Count")(b"5", timeout=10))
server.stop(grace=None).wait()
assert reply == b"echo hi" and streamed == [b"0", b"1", b"2", b"3", b"4"], (reply, streamed)
print("CORPUS OK", flush=True)
