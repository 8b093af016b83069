// Where the scenarios shipped with copilog live, and how a name or path becomes a file.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UsageError } from './usage.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** "demo", "seed-403", "doctor/user.guest" or a path to a YAML/JSON file. */
export function resolveScenario(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(SCENARIO_DIR, nameOrPath + ext);
    if (existsSync(p)) return p;
  }
  throw new UsageError(`no scenario file or shipped scenario named '${nameOrPath}' (shipped ones are in ${SCENARIO_DIR}; pass a path to your own YAML or JSON file)`);
}
