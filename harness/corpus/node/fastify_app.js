// fastify: a route with a response schema, called over real HTTP, then closed.
"use strict";
const fastify = require("fastify")({ logger: false });

fastify.get("/items/:id", async (req) => ({ id: Number(req.params.id), name: `item ${req.params.id}` }));
(async () => {
  const address = await fastify.listen({ port: 0, host: "127.0.0.1" });
  const res = await fetch(`${address}/items/4`);
  const body = await res.json();
  if (body.name !== "item 4") throw new Error(JSON.stringify(body));
  await fastify.close();
  console.log("CORPUS OK");
})();
