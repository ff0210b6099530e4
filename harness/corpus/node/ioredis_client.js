// ioredis against a real Redis over its unix socket: strings, a hash, a pipeline.
"use strict";
const Redis = require("ioredis");

(async () => {
  const redis = new Redis({ path: process.argv[2], lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  await redis.set("corpus:node", "v", "EX", 60);
  await redis.hset("corpus:nodeh", { a: "1", b: "2" });
  const results = await redis.pipeline().incr("corpus:noden").incr("corpus:noden").get("corpus:node").exec();
  const [[, n1], [, n2], [, v]] = results;
  if (n2 - n1 !== 1 || v !== "v" || (await redis.hget("corpus:nodeh", "b")) !== "2") throw new Error(JSON.stringify(results));
  await redis.quit();
  console.log("CORPUS OK");
})();
