// fs writes made durable: write, fsync, rename into place, append, read back (sync and promises).
"use strict";
const fs = require("fs");

(async () => {
  const fd = fs.openSync("state.json.tmp", "w");
  fs.writeSync(fd, JSON.stringify({ n: 1 }));
  fs.fsyncSync(fd);
  fs.fdatasyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync("state.json.tmp", "state.json");
  fs.mkdirSync("logs", { recursive: true });
  const handle = await fs.promises.open("logs/app.log", "a");
  await handle.appendFile("line\n");
  await handle.sync();
  await handle.close();
  const state = JSON.parse(await fs.promises.readFile("state.json", "utf8"));
  await fs.promises.unlink("logs/app.log");
  if (state.n !== 1) throw new Error("bad state");
  console.log("CORPUS OK");
})();
