'use strict';
// Small HTTP service used to measure Node.js's syscalls and to run it under seccomp.
//
// Usage: node app.js CONFIG
//
// Serves /healthz and /work. /work resolves `localhost` with dns.lookup (getaddrinfo on
// libuv's thread pool), talks to a TCP echo dependency, does a TLS handshake with a local
// TLS peer and appends to a file under the writable state dir. A worker thread hashes
// the state file. After start it drives itself, prints SELFCHECK OK, then waits for
// SIGTERM and exits 0 after a graceful shutdown.
const dns = require('node:dns');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const tls = require('node:tls');
const { Worker } = require('node:worker_threads');

function readConfig(file) {
  const cfg = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    cfg[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return cfg;
}

const listen = (server, host, port) =>
  new Promise((resolve) => server.listen(port, host, () => resolve(server.address().port)));

function lookup(name) {
  return new Promise((resolve, reject) =>
    dns.lookup(name, { family: 4 }, (err, address) => (err ? reject(err) : resolve(address))));
}

function echoOnce(host, port, payload) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host, () => sock.write(payload));
    sock.once('data', (data) => { sock.end(); resolve(data.toString()); });
    sock.once('error', reject);
  });
}

function tlsOnce(host, port, ca) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, ca, servername: 'localhost' }, () => sock.write('hello'));
    sock.once('data', (data) => {
      const version = sock.getProtocol();
      sock.end();
      resolve(`${data.toString()} ${version}`);
    });
    sock.once('error', reject);
  });
}

function hashInWorker(file) {
  const code = `const { parentPort, workerData } = require('node:worker_threads');
    const crypto = require('node:crypto');
    const fs = require('node:fs');
    parentPort.postMessage(crypto.createHash('sha256').update(fs.readFileSync(workerData)).digest('hex'));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: file });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function get(host, port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${p}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function main() {
  const cfgPath = process.argv[2];
  const cfg = readConfig(cfgPath);
  const base = path.dirname(cfgPath);
  const host = cfg.listen_host;
  const cert = fs.readFileSync(path.join(base, cfg.tls_cert));
  const key = fs.readFileSync(path.join(base, cfg.tls_key));
  const state = path.join(cfg.state_dir, `node-workload-${process.pid}.log`);

  const echo = net.createServer((s) => s.once('data', (d) => s.end(d)));
  const tlsSrv = tls.createServer({ cert, key }, (s) => s.once('data', (d) => s.end(Buffer.concat([Buffer.from('tls:'), d]))));
  const echoPort = await listen(echo, host, 0);
  const tlsPort = await listen(tlsSrv, host, 0);

  const httpd = http.createServer(async (req, res) => {
    try {
      if (req.url === '/healthz') {
        res.end('ok');
      } else if (req.url === '/work') {
        const addr = await lookup('localhost');
        const echoed = await echoOnce(addr, echoPort, 'ping');
        const tlsReply = await tlsOnce(host, tlsPort, cert);
        fs.appendFileSync(state, `${req.url} ${echoed} ${tlsReply}\n`);
        res.end(`work ok echo=${echoed} tls=${tlsReply}`);
      } else {
        res.statusCode = 404;
        res.end();
      }
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  httpd.keepAliveTimeout = 1000;
  const port = await listen(httpd, host, Number(cfg.port));
  console.log(`READY port=${port} pid=${process.pid}`);

  let lifetime;
  process.on('SIGTERM', () => {
    clearTimeout(lifetime);
    httpd.closeAllConnections();
    let open = 3;
    const done = () => {
      open -= 1;
      if (open === 0) {
        fs.unlinkSync(state);
        console.log('SHUTDOWN OK');
        process.exitCode = 0;
      }
    };
    httpd.close(done);
    echo.close(done);
    tlsSrv.close(done);
  });

  if ((await get(host, port, '/healthz')) !== 'ok') throw new Error('healthz');
  const n = Number(cfg.requests);
  const results = await Promise.all(Array.from({ length: n }, () => get(host, port, '/work')));
  for (const r of results) {
    if (!r.startsWith('work ok echo=ping tls=tls:hello')) throw new Error(`bad reply ${r}`);
  }
  const lines = fs.readFileSync(state, 'utf8').trim().split('\n');
  if (lines.length !== n) throw new Error('state file');
  const digest = await hashInWorker(state);
  console.log(`SELFCHECK OK requests=${n} ${results[0]} sha256=${digest.slice(0, 12)}`);
  lifetime = setTimeout(() => {
    console.log('no SIGTERM before max_lifetime_s');
    process.exit(3);
  }, Number(cfg.max_lifetime_s) * 1000);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
