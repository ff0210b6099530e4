"use strict";
// A dependency-free HTTP service for the build tests: /healthz answers once /tmp is writable.
const fs = require("fs");
const http = require("http");

const port = Number(process.env.PORT || 8080);
fs.writeFileSync("/tmp/started", String(process.pid));
http
  .createServer((req, res) => {
    const ok = req.url === "/healthz";
    res.writeHead(ok ? 200 : 404, { "Content-Type": "text/plain" });
    res.end(ok ? "ok\n" : "not found\n");
  })
  .listen(port);
