// express: a JSON route and a static-free router; a client calls it, then the server closes.
"use strict";
const express = require("express");
const http = require("http");

const app = express();
app.use(express.json());
app.get("/items/:id", (req, res) => res.json({ id: Number(req.params.id), name: `item ${req.params.id}` }));
const server = app.listen(0, "127.0.0.1", () => {
  http.get(`http://127.0.0.1:${server.address().port}/items/3`, (res) => {
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => {
      if (JSON.parse(body).name !== "item 3") throw new Error(body);
      server.close(() => console.log("CORPUS OK"));
      server.closeAllConnections();
    });
  });
});
