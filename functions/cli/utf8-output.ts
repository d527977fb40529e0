/**
 * The UTF-8 bytes of many small texts, appended in order into one growing buffer.
 *
 * A replay worker prints a line per record, a thousand per log file. Kept as strings until the
 * file is done, each line (a rope of some forty pieces, as template literals build it) lives
 * through several garbage collections and is copied by each, then joined and copied again to
 * cross to the main thread. Encoded here as soon as it is rendered, a line dies young, and the
 * file's output crosses threads as one transferred buffer, without a copy.
 */
export class Utf8Output {
  private buffer: Buffer | undefined;
  private length = 0;

  /** `initialBytes`: the buffer's first size (allocated on the first append); it doubles (at least) whenever a text would not fit. */
  constructor(private readonly initialBytes = 64 * 1024) {}

  /** Appends `text`, encoded as UTF-8 (a lone surrogate as U+FFFD, as a stream writing the string would). */
  append(text: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    const room = text.length * 3;
    if (this.buffer === undefined || this.length + room > this.buffer.length) this.grow(this.length + room);
    this.length += this.buffer!.write(text, this.length, 'utf8');
  }

  get byteLength(): number {
    return this.length;
  }

  /**
   * The bytes appended so far, in a buffer of their own (its `buffer` can be transferred to
   * another thread); this output starts again empty.
   */
  take(): Uint8Array {
    const bytes = this.buffer === undefined ? new Uint8Array(0) : new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
    this.buffer = undefined;
    this.length = 0;
    return bytes;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(needed, this.initialBytes, (this.buffer?.length ?? 0) * 2));
    this.buffer?.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}
