/**
 * The CLI's view of the process: streams, environment and clock, injected so that tests run
 * the CLI in-process with captured output and a scripted stdin.
 */

export interface OutputStream {
  /** Strings are written as UTF-8. */
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
  columns?: number;
  once?(event: 'drain', listener: () => void): unknown;
}

export interface InputStream extends AsyncIterable<string | Buffer> {
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  env: NodeJS.ProcessEnv;
  /** The clock: the CLI reads it once per run, the core never does. */
  now: () => Date;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    now: () => new Date(),
  };
}

/**
 * Buffers small writes into large chunks (a 1M-record replay writes 1M lines) and waits
 * for 'drain' when the stream asks, so memory stays flat when stdout is a slow pipe.
 */
export class BufferedWriter {
  private chunks: string[] = [];
  private size = 0;
  constructor(
    private readonly stream: OutputStream,
    private readonly limit = 64 * 1024,
  ) {}

  async write(text: string): Promise<void> {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= this.limit) await this.flush();
  }

  /** Writes bytes (UTF-8) after what is buffered, in order; large already, so not buffered again. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    await this.flush();
    const ok = this.stream.write(bytes);
    if (!ok && this.stream.once) await new Promise<void>((resolve) => this.stream.once!('drain', resolve));
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    const ok = this.stream.write(text);
    if (!ok && this.stream.once) await new Promise<void>((resolve) => this.stream.once!('drain', resolve));
  }
}

/** Reads one line from stdin (for a confirmation prompt); undefined at end of input. */
export async function readLine(stdin: InputStream): Promise<string | undefined> {
  let buffered = '';
  for await (const chunk of stdin) {
    buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const newline = buffered.indexOf('\n');
    if (newline >= 0) return buffered.slice(0, newline).replace(/\r$/, '');
  }
  return buffered.length > 0 ? buffered : undefined;
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: OutputStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
