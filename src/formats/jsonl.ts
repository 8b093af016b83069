// JSON Lines: one `{"userId":"…","interaction":{…}}` per interaction, the shape of the emulator's
// ground truth (GET /_emulator/tenants/{tid}/interactions). The interaction is the stored JSON
// text as is: no parse and re-serialization, so a number or a key order Graph chose survives.
import type { DumpRecord, FormatWriter } from './row.js';
import type { Sink } from './sink.js';

export function jsonlWriter(sink: Sink): FormatWriter {
  return {
    write: (r: DumpRecord) => sink.write(`{"userId":${JSON.stringify(r.userId)},"interaction":${r.json}}\n`),
    finish: async () => undefined,
  };
}
