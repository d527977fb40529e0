/**
 * A replay worker hands over a file's output as UTF-8 bytes, and the main thread writes them
 * between its own buffered text: the bytes are those of the texts, in order.
 */
import fc from 'fast-check';
import { BufferedWriter } from '../../functions/cli/io';
import { Utf8Output } from '../../functions/cli/utf8-output';

describe('UTF-8 output of many texts', () => {
  it('is the UTF-8 of the texts joined, whatever they hold (lone surrogates included) and however small it starts', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (texts, initial) => {
        const out = new Utf8Output(initial);
        for (const t of texts) out.append(t);
        expect(out.byteLength).toBe(Buffer.byteLength(texts.join('')));
        expect(Buffer.from(out.take())).toEqual(Buffer.from(texts.join(''), 'utf8'));
        expect(out.byteLength).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('gives each take its own buffer, which can be handed to another thread', () => {
    const out = new Utf8Output(4);
    out.append('one\n');
    const first = out.take();
    out.append('two, é\n');
    const second = out.take();
    expect(Buffer.from(first).toString()).toBe('one\n');
    expect(Buffer.from(second).toString()).toBe('two, é\n');
    expect(first.buffer).not.toBe(second.buffer);
    expect(structuredClone(second, { transfer: [second.buffer as ArrayBuffer] })).toHaveLength(Buffer.byteLength('two, é\n'));
    expect(new Utf8Output().take()).toHaveLength(0);
  });
});

describe('the buffered writer', () => {
  it('writes bytes after the text buffered before them, and before the text written after', async () => {
    const chunks: (string | Uint8Array)[] = [];
    const writer = new BufferedWriter({ write: (chunk: string | Uint8Array) => (chunks.push(chunk), true) }, 1024);
    await writer.write('a\n');
    await writer.writeBytes(Buffer.from('b\n'));
    await writer.write('c\n');
    await writer.flush();
    expect(chunks.map((c) => (typeof c === 'string' ? c : Buffer.from(c).toString()))).toEqual(['a\n', 'b\n', 'c\n']);
  });

  it('waits for drain after bytes the stream could not take at once', async () => {
    let drained: (() => void) | undefined;
    const writer = new BufferedWriter({ write: () => false, once: (_event: 'drain', listener: () => void) => (drained = listener) });
    let done = false;
    const writing = writer.writeBytes(Buffer.from('x')).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    drained!();
    await writing;
    expect(done).toBe(true);
  });
});
