"use strict";
// A dependency-free HTTP service for the build tests: /healthz answers once /tmp is writable.
const fs = require("fs");
const http = require("http");
const health = require("./lib/health");

const port = Number(process.env.PORT || 8080);
fs.writeFileSync("/tmp/started", String(process.pid));
http
  .createServer((req, res) => {
    const answer = health(req.url);
    res.writeHead(answer.status, { "Content-Type": "text/plain" });
    res.end(answer.body);
  })
  .listen(port);
