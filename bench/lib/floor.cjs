/**
 * The floor for replay throughput: read, gunzip and JSON.parse every file the way the CLI
 * does (one file at a time, async gunzip, the whole text parsed once), and nothing else.
 *
 *   node bench/lib/floor.cjs FILE_LIST
 *
 * FILE_LIST holds one path a line. Prints {"records":N,"ms":T} on stdout.
 */
'use strict';
const { readFileSync, promises: fs } = require('node:fs');
const { promisify } = require('node:util');
const { gunzip } = require('node:zlib');

const gunzipAsync = promisify(gunzip);
// The same inflation settings as the CLI (functions/cli/inputs.ts GUNZIP_OPTIONS): 1 MiB output
// chunks, which roughly halve gunzip's CPU time against zlib's 16 KiB default. The floor is the
// least work replay cannot avoid, done as well as replay does it.
const GUNZIP_OPTIONS = { chunkSize: 1024 * 1024 };

async function main() {
  const files = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
  const started = process.hrtime.bigint();
  let records = 0;
  for (const file of files) {
    const text = (await gunzipAsync(await fs.readFile(file), GUNZIP_OPTIONS)).toString('utf8');
    const doc = JSON.parse(text);
    records += doc.Records.length;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${JSON.stringify({ records, ms })}\n`);
}

main().catch((err) => {
  process.stderr.write(`floor: ${err.stack}\n`);
  process.exitCode = 1;
});
