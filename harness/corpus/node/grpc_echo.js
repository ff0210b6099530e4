// @grpc/grpc-js: a server and a client, a unary call with raw Buffers (no codegen).
"use strict";
const grpc = require("@grpc/grpc-js");

const id = (x) => x;
const say = { path: "/corpus.Echo/Say", requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id };
const server = new grpc.Server();
server.addService({ say }, { say: (call, cb) => cb(null, Buffer.concat([Buffer.from("echo "), call.request])) });
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  client.makeUnaryRequest(say.path, id, id, Buffer.from("hi"), (e, reply) => {
    if (e) throw e;
    if (reply.toString() !== "echo hi") throw new Error(reply.toString());
    client.close();
    server.tryShutdown(() => console.log("CORPUS OK"));
  });
});
