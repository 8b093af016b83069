// The tests read Microsoft's reference data from ../shared/graph-reference beside the clone. Without
// it, stop before anything runs, in one line, as .ci/run does (this file is that line for both).
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../../shared/graph-reference', import.meta.url))) {
  process.stderr.write("copilog's tests need ../shared/graph-reference (Microsoft's reference data) beside the clone\n");
  process.exit(1);
}
