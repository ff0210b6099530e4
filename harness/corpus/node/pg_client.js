// node-postgres (pg) against a real PostgreSQL over its unix socket: a pool, DDL, a
// parameterised insert in a transaction, a query.
"use strict";
const { Pool } = require("pg");

(async () => {
  const pool = new Pool({ host: process.argv[2], port: Number(process.argv[3]), user: "postgres", database: "postgres", max: 2 });
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("CREATE TEMP TABLE items (id serial PRIMARY KEY, name text)");
    for (let i = 0; i < 20; i++) await client.query("INSERT INTO items (name) VALUES ($1)", [`n${i}`]);
    const { rows } = await client.query("SELECT count(*)::int AS n FROM items");
    await client.query("COMMIT");
    if (rows[0].n !== 20) throw new Error(JSON.stringify(rows));
  } finally {
    client.release();
  }
  await pool.end();
  console.log("CORPUS OK");
})();
