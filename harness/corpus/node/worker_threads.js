// worker_threads: CPU work spread over workers, results passed back by message.
"use strict";
const { Worker, isMainThread, parentPort, workerData } = require("worker_threads");

if (isMainThread) {
  const jobs = [1, 2, 3, 4].map(
    (n) =>
      new Promise((resolve, reject) => {
        const w = new Worker(__filename, { workerData: n });
        w.on("message", resolve);
        w.on("error", reject);
      }),
  );
  Promise.all(jobs).then((sums) => {
    if (sums.length !== 4 || sums.some((s) => s <= 0)) throw new Error(String(sums));
    console.log("CORPUS OK");
  });
} else {
  let sum = 0;
  for (let i = 0; i < 1e6 * workerData; i++) sum += i % 7;
  parentPort.postMessage(sum);
}
