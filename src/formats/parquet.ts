// Parquet through hyparquet-writer (pure JS): the flat columns (row.ts) with a typed schema —
// strings UTF8, createdDateTime a UTC TIMESTAMP(MILLIS), counts INT32 — in row groups of
// ROW_GROUP rows, each handed to the sink as it is encoded, so memory holds one group, never the dump.
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { FLAT_COLUMNS, flatten, type DumpRecord, type FlatRow, type FormatWriter } from './row.js';
import type { Sink } from './sink.js';

type Schema = ConstructorParameters<typeof ParquetWriter>[0]['schema'];
type SchemaElement = Schema[number];

export const ROW_GROUP = 10_000;

const REQUIRED_STRINGS = new Set<string>(['tenantId', 'userId', 'id']);
const INTS = new Set<string>(['attachmentCount', 'linkCount', 'mentionCount', 'contextCount']);

function element(name: (typeof FLAT_COLUMNS)[number]): SchemaElement {
  if (name === 'createdDateTime') {
    return { name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' }, repetition_type: 'REQUIRED' };
  }
  if (INTS.has(name)) return { name, type: 'INT32', repetition_type: 'REQUIRED' };
  return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: REQUIRED_STRINGS.has(name) ? 'REQUIRED' : 'OPTIONAL' };
}

export const PARQUET_SCHEMA: Schema = [{ name: 'root', num_children: FLAT_COLUMNS.length }, ...FLAT_COLUMNS.map(element)];

/** hyparquet-writer's ByteWriter, emptied into the sink after each row group and at the footer. */
class SinkWriter extends ByteWriter {
  constructor(private readonly sink: Sink) {
    super(1 << 20);
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    this.index = 0;
    return this.sink.write(bytes);
  }

  override finish(): Promise<void> {
    if (this.empty) this.typeEmptyRowGroupList();
    return this.flush();
  }

  /** Set when no row was written: the footer then holds an empty row-group list. */
  empty = false;

  /**
   * hyparquet-writer 0.17 writes an empty Thrift list without an element type; arrow-rs (and so
   * readers built on it) require STRUCT for FileMetaData.row_groups and refuse the file. With no
   * rows the whole file is in this buffer: after `num_rows = 0` (field 3, i64: 0x16 0x00) comes
   * field 4 as an empty list (0x19, then size 0 and a type nibble); retype it to STRUCT (0x0c).
   */
  private typeEmptyRowGroupList(): void {
    const b = new Uint8Array(this.buffer, 0, this.index);
    const hits: number[] = [];
    for (let i = 4; i + 3 < b.length; i++) if (b[i] === 0x16 && b[i + 1] === 0x00 && b[i + 2] === 0x19 && (b[i + 3]! & 0xf0) === 0) hits.push(i + 3);
    if (hits.length !== 1) throw new Error('unexpected Parquet footer for an empty dump');
    b[hits[0]!] = 0x0c;
  }
}

export function parquetWriter(sink: Sink, o: { createdBy?: string; rowGroup?: number } = {}): FormatWriter {
  const size = o.rowGroup ?? ROW_GROUP;
  const writer = new SinkWriter(sink);
  const pq = new ParquetWriter({ writer, schema: PARQUET_SCHEMA, codec: 'SNAPPY', createdBy: o.createdBy ?? 'copilog' });
  let rows: FlatRow[] = [];
  const flush = async (): Promise<void> => {
    if (rows.length === 0) return;
    const columnData = FLAT_COLUMNS.map((name) => ({
      name,
      data: name === 'createdDateTime' ? rows.map((r) => new Date(r.createdMs)) : rows.map((r) => r[name]),
    }));
    const n = rows.length;
    rows = [];
    await pq.write({ columnData, rowGroupSize: n });
  };
  return {
    async write(r: DumpRecord) {
      rows.push(flatten(r));
      if (rows.length >= size) await flush();
    },
    async finish() {
      await flush();
      writer.empty = pq.row_groups.length === 0;
      await pq.finish();
    },
  };
}
