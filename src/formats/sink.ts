// Where a dump's bytes go: a file written beside its target and renamed into place only when
// complete (an interrupted dump never leaves a half file under the real name), or stdout.
// Small writes are gathered into large ones; stdout honours back-pressure.
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';

export interface Sink {
  /** Where it goes, for messages. */
  readonly location: string;
  /** Bytes handed to the sink so far. */
  readonly bytes: number;
  write(chunk: string | Uint8Array): Promise<void>;
  /** Flush and put the output in place (rename for a file). */
  commit(): Promise<void>;
  /** Drop what was written (the temp file is removed; the target is untouched). */
  abort(): Promise<void>;
}

/** The output cannot be opened as asked; nothing was written. */
export class SinkOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkOpenError';
  }
}

const FLUSH_AT = 1 << 20;

abstract class Buffered implements Sink {
  abstract readonly location: string;
  bytes = 0;
  private parts: Buffer[] = [];
  private size = 0;

  async write(chunk: string | Uint8Array): Promise<void> {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // A Uint8Array view may be reused by its producer (the Parquet writer's buffer): copy it.
    this.parts.push(typeof chunk === 'string' ? b : Buffer.from(b));
    this.size += b.length;
    this.bytes += b.length;
    if (this.size >= FLUSH_AT) await this.flush();
  }

  protected async flush(): Promise<void> {
    if (this.size === 0) return;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    await this.put(data);
  }

  protected abstract put(data: Buffer): Promise<void>;
  abstract commit(): Promise<void>;
  abstract abort(): Promise<void>;
}

class FileSink extends Buffered {
  private constructor(readonly location: string, private readonly temp: string, private readonly fh: FileHandle) {
    super();
  }

  /** A private temp file (0600: a dump holds people's prompts) in the target's folder, so the rename is atomic. */
  static async open(target: string): Promise<FileSink> {
    const file = resolve(target);
    const dir = dirname(file);
    try {
      if ((await stat(file)).isDirectory()) throw new SinkOpenError(`--out ${target} is a directory; pass a file path such as ${join(target, 'interactions.jsonl')}`);
    } catch (e) {
      if (e instanceof SinkOpenError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SinkOpenError(`cannot write --out ${target}: ${(e as Error).message}`);
    }
    const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    try {
      return new FileSink(file, temp, await open(temp, 'wx', 0o600));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `the folder ${dir} does not exist` : code === 'EACCES' || code === 'EPERM' ? `no permission to create files in ${dir}` : (e as Error).message;
      throw new SinkOpenError(`cannot write --out ${target}: ${why}`);
    }
  }

  protected async put(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) off += (await this.fh.write(data, off, data.length - off)).bytesWritten;
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
    await rename(this.temp, this.location);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
  }
}

class StreamSink extends Buffered {
  readonly location = 'stdout';
  private failed: Error | undefined;

  constructor(private readonly out: Writable) {
    super();
    // A closed pipe (| head) or a full disk surfaces here; the next write rejects with it.
    out.on('error', (e) => (this.failed ??= e));
  }

  protected async put(data: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.out.write(data)) {
      await new Promise<void>((res, rej) => {
        const done = () => { this.out.off('error', fail); res(); };
        const fail = (e: Error) => { this.out.off('drain', done); rej(e); };
        this.out.once('drain', done);
        this.out.once('error', fail);
      });
    }
    if (this.failed) throw this.failed;
  }

  async commit(): Promise<void> {
    await this.flush();
    await new Promise<void>((res, rej) => this.out.write('', (e) => (e ? rej(e) : res())));
  }

  async abort(): Promise<void> {}
}

/** `-` is stdout; anything else a file path. */
export async function openSink(out: string, stdout: Writable = process.stdout): Promise<Sink> {
  return out === '-' ? new StreamSink(stdout) : FileSink.open(out);
}
