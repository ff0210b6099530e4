"use strict";
// The readiness answer, in a module of its own: the image must ship lib/ (named in the
// manifest's spec.build.appFiles) for server.js to start.
module.exports = function health(url) {
  const ok = url === "/healthz";
  return { status: ok ? 200 : 404, body: ok ? "ok\n" : "not found\n" };
};
