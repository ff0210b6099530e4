"""A FastAPI application served by uvicorn; a client calls it, then the server stops."""

import asyncio
import json
import urllib.request

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item}")
async def read(item: int) -> dict[str, object]:
    await asyncio.sleep(0)
    return {"id": item, "name": f"item {item}"}


async def main() -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=18082, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    url = "http://127.0.0.1:18082/items/5"
    body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
    assert json.loads(body) == {"id": 5, "name": "item 5"}, body
    server.should_exit = True
    await task


asyncio.run(main())
print("CORPUS OK", flush=True)
