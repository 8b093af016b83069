// The dump formats side by side: one writer per format, fed the same records. Serve and the
// fleet can call writeDump with any source of stored interactions; cli/commands/dump.ts is the CLI.
import type { AiInteraction } from '../client/models.js';
import type { StoredInteraction } from '../store/types.js';
import { csvWriter } from './csv.js';
import { jsonlWriter } from './jsonl.js';
import { parquetWriter } from './parquet.js';
import { withoutBodies, type Pseudonymizer } from './pseudonymize.js';
import type { DumpRecord, FormatWriter } from './row.js';
import type { Sink } from './sink.js';

export const FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type Format = (typeof FORMATS)[number];

export const isFormat = (v: string): v is Format => (FORMATS as readonly string[]).includes(v);

/** The format a file name implies (.jsonl/.ndjson, .csv, .parquet), if any. */
export function formatOfPath(path: string): Format | undefined {
  const m = /\.([a-z]+)$/i.exec(path);
  const ext = m?.[1]?.toLowerCase();
  return ext === 'jsonl' || ext === 'ndjson' ? 'jsonl' : ext === 'csv' ? 'csv' : ext === 'parquet' ? 'parquet' : undefined;
}

export function formatWriter(format: Format, sink: Sink): FormatWriter {
  switch (format) {
    case 'jsonl': return jsonlWriter(sink);
    case 'csv': return csvWriter(sink);
    case 'parquet': return parquetWriter(sink);
  }
}

export interface DumpOptions {
  rows: AsyncIterable<StoredInteraction>;
  format: Format;
  sink: Sink;
  pseudonymizer?: Pseudonymizer;
  noBodies?: boolean;
  /** Called every `every` rows (progress); never given content. */
  onProgress?: (rows: number) => void;
  every?: number;
  /** Stops the dump at the next row with DumpInterrupted (the sink is left to the caller to abort). */
  signal?: AbortSignal;
}

export class DumpInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'DumpInterrupted';
  }
}

/** Stream rows through the format's writer; returns the row count. The sink is not committed here. */
export async function writeDump(o: DumpOptions): Promise<number> {
  const writer = formatWriter(o.format, o.sink);
  const every = o.every ?? 10_000;
  let n = 0;
  for await (const s of o.rows) {
    if (o.signal?.aborted) throw new DumpInterrupted();
    const r: DumpRecord = { tenantId: s.tenantId, userId: s.userId, createdMs: s.createdMs, json: s.json };
    if (o.noBodies || o.pseudonymizer) {
      let item = JSON.parse(s.json) as AiInteraction;
      if (o.noBodies) item = withoutBodies(item);
      if (o.pseudonymizer) {
        item = o.pseudonymizer.interaction(item);
        r.userId = o.pseudonymizer.userId(s.userId);
      }
      r.item = item;
      r.json = JSON.stringify(item);
    }
    await writer.write(r);
    n++;
    if (o.onProgress && n % every === 0) o.onProgress(n);
  }
  await writer.finish();
  return n;
}
