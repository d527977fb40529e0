/**
 * One responder container for the time-to-containment benchmark, forked by containment.ts.
 *
 * Loads the BUILT responder bundle (its clients reach the fake AWS through AWS_ENDPOINT_URL),
 * warms it with one negative sample (clients, policy, connections: a warm container), says
 * "ready", and on "go" runs the sample event through the handler and reports when it started
 * and ended on the system-wide monotonic clock (process.hrtime), which the parent shares.
 */
'use strict';
const { readFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');

const [bundle, warmupFile, sampleFile] = process.argv.slice(2);
const lambdaContext = () => ({
  functionName: 'driftwarden-responder',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:driftwarden-responder',
  memoryLimitInMB: '512',
  awsRequestId: `bench-${process.pid}-${Date.now()}`,
  logGroupName: '/aws/lambda/driftwarden-responder',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done() {},
  fail() {},
  succeed() {},
});

async function main() {
  // The deployed bundle is an ES module (index.mjs), loaded as Lambda loads it.
  const { handler } = await import(pathToFileURL(bundle).href);
  const warmup = await handler(JSON.parse(readFileSync(warmupFile, 'utf8')), lambdaContext());
  process.send({ type: 'ready', warmup });
  await new Promise((resolve) => process.once('message', resolve));
  const event = JSON.parse(readFileSync(sampleFile, 'utf8'));
  const startedNs = process.hrtime.bigint();
  let summary;
  let error;
  try {
    summary = await handler(event, lambdaContext());
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const endedNs = process.hrtime.bigint();
  process.send({ type: 'done', startedNs: String(startedNs), endedNs: String(endedNs), summary, error }, () => process.exit(0));
}

main().catch((err) => {
  process.send({ type: 'failed', error: err instanceof Error ? err.stack : String(err) }, () => process.exit(1));
});
