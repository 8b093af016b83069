// CSV: the flat columns (row.ts), RFC 4180 quoting by csv-stringify, CRLF record ends, UTF-8 with a
// byte-order mark so Excel reads accents and emoji right (DuckDB, Power BI and csv-parse skip it).
import { stringify } from 'csv-stringify/sync';
import { FLAT_COLUMNS, flatten, type DumpRecord, type FormatWriter } from './row.js';
import type { Sink } from './sink.js';

/** Rows per stringify call: amortises the call, keeps memory small. */
const BATCH = 500;

export function csvWriter(sink: Sink, o: { bom?: boolean } = {}): FormatWriter {
  let batch: unknown[][] = [];
  let first = true;
  const flush = async (): Promise<void> => {
    if (!first && batch.length === 0) return;
    const text = stringify(batch, { header: first, columns: [...FLAT_COLUMNS], bom: first && o.bom !== false, record_delimiter: 'windows' });
    first = false;
    batch = [];
    await sink.write(text);
  };
  return {
    async write(r: DumpRecord) {
      const f = flatten(r);
      batch.push(FLAT_COLUMNS.map((c) => f[c]));
      if (batch.length >= BATCH) await flush();
    },
    finish: flush,
  };
}
