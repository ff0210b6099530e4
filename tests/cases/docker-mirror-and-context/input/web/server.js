"use strict";
// The entry point the node profile ships (appFiles: package.json, server.js).
require("http").createServer((req, res) => res.end("ok\n")).listen(8080);
