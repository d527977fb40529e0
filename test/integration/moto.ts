/**
 * moto_server for the integration suites: found on PATH, started on a free loopback port
 * per test file, reset between tests, stopped afterwards.
 *
 * Without moto_server the integration suites are skipped with a visible notice, except in CI
 * (CI=true), where a missing moto_server fails the run: a CI that silently skips the only end
 * to end tests would report green for code it never ran.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const MOTO_ACCOUNT_ID = '123456789012';
export const MOTO_REGION = 'us-east-1';

/** The moto_server executable on PATH, or undefined. */
export function findMotoServer(path: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'moto_server');
    if (!existsSync(candidate)) continue;
    // A pyenv shim exists for every installed version's scripts; ask it to answer before trusting it.
    const probe = spawnSync(candidate, ['-h'], { encoding: 'utf8', timeout: 20_000 });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

export class MotoServerMissingError extends Error {
  override readonly name = 'MotoServerMissingError';
}

/**
 * `describe` when moto_server is there; `describe.skip` with a notice when it is not; a
 * failing suite in CI.
 */
export function describeWithMoto(name: string, body: () => void): void {
  const executable = findMotoServer();
  if (executable) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has moto_server on PATH (required in CI)', () => {
        throw new MotoServerMissingError(`moto_server not found on PATH (${process.env.PATH ?? ''}): CI=true requires it for the integration tests`);
      });
    });
    return;
  }
  const notice = `moto_server not found: integration tests skipped (${name}). Install it with \`pip install 'moto[server]'\`.`;
  console.warn(notice);
  // Jest shows no console output for a suite whose every test is skipped: say it on stderr too.
  process.stderr.write(`\n${notice}\n`);
  describe.skip(name, body);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class MotoServer {
  private constructor(
    readonly endpoint: string,
    private readonly child: ChildProcess,
    private readonly output: { text: string },
  ) {}

  /** Starts moto_server on a free loopback port and waits until it answers. */
  static async start(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
    const executable = findMotoServer();
    if (!executable) throw new MotoServerMissingError('moto_server not found on PATH');
    const timeoutMs = options.timeoutMs ?? 30_000;
    // Another process may take the port between the probe and the bind: try a few.
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const output = { text: '' };
      const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (chunk: Buffer) => {
        output.text = (output.text + chunk.toString('utf8')).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const endpoint = `http://127.0.0.1:${port}`;
      const server = new MotoServer(endpoint, child, output);
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && child.exitCode === null) {
        try {
          const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
          if (res.ok) return server;
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      lastError = `moto_server on port ${port} did not answer within ${timeoutMs} ms (exit code ${String(child.exitCode)}): ${output.text.slice(-2000)}`;
      await server.stop();
    }
    throw new Error(lastError);
  }

  /** Forgets every resource of every service. */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status} ${await res.text()}`);
  }

  /** The server's recent output (for a failing test's message). */
  log(): string {
    return this.output.text;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const forced = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(forced);
  }
}
