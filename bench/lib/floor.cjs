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

async function main() {
  const files = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
  const started = process.hrtime.bigint();
  let records = 0;
  for (const file of files) {
    const text = (await gunzipAsync(await fs.readFile(file))).toString('utf8');
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
