/**
 * Reading replay inputs, one file at a time, so memory does not grow with the archive.
 *
 * - Files and folders (recursively); paths are sorted so a replay is deterministic.
 * - `.json`: one EventBridge event, one bare CloudTrail record, an array of either, or a
 *   CloudTrail S3 log file `{"Records":[...]}`.
 * - `.jsonl`: one input per line, read with readline.
 * - `.json.gz`: gunzipped first (CloudTrail log files as delivered to S3).
 * - anything else is skipped with a warning.
 *
 * Each input is parsed exactly once; a line or file that is not JSON becomes a `not-json`
 * rejection that names where it was, never an exception.
 */
import { createReadStream, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import { gunzip, gunzipSync } from 'node:zlib';
import { InputError } from '../core/errors';
import type { Rejection } from '../core/model';
import { parseJsonText } from '../core/normalize/guards';

const gunzipAsync = promisify(gunzip);

/**
 * Output chunks of 1 MiB instead of zlib's 16 KiB: a CloudTrail log file inflates to about
 * 1.4 MB, and with small chunks the per-chunk callbacks and the final concatenation cost as
 * much as the inflation itself (measured: about half the CPU time of a gunzip).
 */
const GUNZIP_OPTIONS = { chunkSize: 1024 * 1024 };

export type InputFormat = 'json' | 'jsonl' | 'json.gz';

export interface InputFile {
  path: string;
  format: InputFormat;
  size: number;
}

/** One input read from a file: a parsed value, or a rejection for text that is not JSON. */
export type InputItem = { source: string; value: unknown } | { source: string; rejection: Rejection };

export function formatOf(file: string): InputFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json.gz')) return 'json.gz';
  if (lower.endsWith('.jsonl')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/**
 * Every input file under the given paths, sorted within each folder, in argument order.
 * A missing or unreadable path is an `InputError`; a file of another type is skipped with
 * `onSkip`.
 */
export async function listInputFiles(paths: string[], onSkip: (file: string, why: string) => void): Promise<InputFile[]> {
  const files: InputFile[] = [];
  const seen = new Set<string>();
  const visit = async (p: string, explicit: boolean): Promise<void> => {
    let stat;
    try {
      stat = await fs.stat(p);
    } catch (cause) {
      throw new InputError(`cannot read ${p}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : String((cause as Error).message)}`, { resource: p }, { cause });
    }
    if (stat.isDirectory()) {
      let entries: string[];
      try {
        entries = await fs.readdir(p);
      } catch (cause) {
        throw new InputError(`cannot read folder ${p}: ${(cause as Error).message}`, { resource: p }, { cause });
      }
      for (const name of entries.sort()) await visit(path.join(p, name), false);
      return;
    }
    if (!stat.isFile()) {
      onSkip(p, 'not a regular file');
      return;
    }
    const format = formatOf(p);
    if (!format) {
      onSkip(p, 'not .json, .jsonl or .json.gz');
      return;
    }
    const key = path.resolve(p);
    if (seen.has(key)) return;
    seen.add(key);
    if (explicit) {
      try {
        await fs.access(p, fs.constants.R_OK);
      } catch (cause) {
        throw new InputError(`cannot read ${p}: ${(cause as Error).message}`, { resource: p }, { cause });
      }
    }
    files.push({ path: p, format, size: stat.size });
  };
  for (const p of paths) await visit(p, true);
  return files;
}

/**
 * Parses with the same guards as the Lambda (not JSON, too deep, too large): a line or
 * file that fails becomes a rejection naming where it was.
 */
function parse(source: string, text: string, maxBytes?: number): InputItem | { value: unknown } {
  const parsed = parseJsonText(text, maxBytes === undefined ? {} : { maxBytes });
  if (parsed.rejected) return { source, rejection: { ...parsed, reason: `${source}: ${parsed.reason}` } };
  return { value: parsed.value };
}

/**
 * The text of a whole-file input (.json, or .json.gz gunzipped): what `readInputs` parses.
 * Exposed so that a caller can start reading (and gunzipping, which runs off the JavaScript
 * thread) the next file while it processes the current one. An unreadable file is an
 * `InputError` naming it.
 */
export async function readFileText(file: InputFile): Promise<string> {
  try {
    const buffer = await fs.readFile(file.path);
    return (file.format === 'json.gz' ? await gunzipAsync(buffer, GUNZIP_OPTIONS) : buffer).toString('utf8');
  } catch (cause) {
    throw unreadable(file, cause);
  }
}

/** The error for a file that cannot be read or gunzipped, naming it. */
function unreadable(file: InputFile, cause: unknown): InputError {
  return new InputError(`cannot read ${file.path}: ${(cause as Error).message}`, { resource: file.path }, { cause });
}

/**
 * `readFileText`, on this thread. For a replay worker: the workers already keep every core
 * busy, so gunzip on libuv's thread pool (to overlap the next file with this one) only adds
 * threads that compete for the same cores; reading in turn is about 4% faster.
 */
export function readFileTextSync(file: InputFile): string {
  try {
    const buffer = readFileSync(file.path);
    return (file.format === 'json.gz' ? gunzipSync(buffer, GUNZIP_OPTIONS) : buffer).toString('utf8');
  } catch (cause) {
    throw unreadable(file, cause);
  }
}

/**
 * `readFileText(file)` started now, for a file read whole (undefined for JSON Lines, which
 * is streamed). A failure is kept in the promise for whoever awaits it, never reported as an
 * unhandled rejection in the meantime.
 */
export function prefetchFileText(file: InputFile): Promise<string> | undefined {
  if (file.format === 'jsonl') return undefined;
  const text = readFileText(file);
  text.catch(() => undefined);
  return text;
}

/**
 * The inputs in one file, in file order. `onBytes` reports progress for large JSON Lines
 * files. `text`, when given, is the file's text already being read (`prefetchFileText`).
 */
export async function* readInputs(file: InputFile, onBytes?: (bytes: number) => void, text?: Promise<string>): AsyncGenerator<InputItem> {
  if (file.format === 'jsonl') {
    yield* readJsonLines(file, onBytes);
    return;
  }
  yield* inputsOfText(file, await (text ?? readFileText(file)));
  onBytes?.(file.size);
}

/**
 * The inputs in the text of a whole file (.json, or a gunzipped .json.gz), in file order:
 * one input, the elements of an array, or the records of a CloudTrail log file; a `not-json`
 * (or `too-deep`) rejection naming the file when the text cannot be parsed. Synchronous, so a
 * caller that already holds the text walks a million records without a promise each.
 */
export function* inputsOfText(file: InputFile, content: string): Generator<InputItem> {
  // A CloudTrail log file holds many records: the per-event size limit applies to each record, not the file.
  const parsed = parse(file.path, content, Number.MAX_SAFE_INTEGER);
  if ('rejection' in parsed) {
    yield parsed;
    return;
  }
  const doc = parsed.value;
  const items = unpack(doc);
  if (items === undefined) {
    yield { source: file.path, value: doc };
  } else {
    for (let i = 0; i < items.length; i++) yield { source: `${file.path}#${i}`, value: items[i] };
  }
}

/** An array of inputs, or a CloudTrail log file's `Records`; undefined for a single input. */
function unpack(doc: unknown): unknown[] | undefined {
  if (Array.isArray(doc)) return doc;
  if (doc !== null && typeof doc === 'object' && Array.isArray((doc as { Records?: unknown }).Records)) {
    return (doc as { Records: unknown[] }).Records;
  }
  return undefined;
}

async function* readJsonLines(file: InputFile, onBytes?: (bytes: number) => void): AsyncGenerator<InputItem> {
  const stream = createReadStream(file.path, { encoding: 'utf8' });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  let pending = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      pending += line.length + 1;
      if (pending > 1 << 20) {
        onBytes?.(pending);
        pending = 0;
      }
      if (line.trim().length === 0) continue;
      const source = `${file.path}:${lineNumber}`;
      const parsed = parse(source, line);
      yield 'rejection' in parsed ? parsed : { source, value: parsed.value };
    }
  } catch (cause) {
    throw new InputError(`cannot read ${file.path}: ${(cause as Error).message}`, { resource: file.path }, { cause });
  } finally {
    lines.close();
    stream.destroy();
  }
  onBytes?.(pending);
}
