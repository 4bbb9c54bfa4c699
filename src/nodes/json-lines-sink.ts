import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * Appends one JSON object per line to a file, buffered by the stream (the control thread
 * never waits on it: commands reach this sink on the main thread). Bigints are written as
 * decimal strings so int64 stamps stay exact.
 */
export class JsonLinesSink {
  private readonly stream: WriteStream;
  written = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  write(record: Record<string, unknown>): void {
    this.stream.write(
      `${JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v))}\n`,
    );
    this.written++;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }
}
