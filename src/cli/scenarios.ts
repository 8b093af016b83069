// Where the scenarios shipped with copilog live, and how a name or path becomes a file.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { UsageError } from './usage.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

const EXT = /\.(ya?ml|json)$/i;

/**
 * "demo", "seed-403", "doctor/user.guest" (a leading "scenarios/" and an extension are accepted
 * too, so a hint copied from the repository works from any directory) or a path to a YAML/JSON file.
 */
export function resolveScenario(nameOrPath: string): string {
  if (existsSync(nameOrPath) && EXT.test(nameOrPath)) return nameOrPath;
  const name = nameOrPath.replace(/\\/g, '/').replace(/^(\.\/)?scenarios\//, '').replace(EXT, '');
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = join(SCENARIO_DIR, name + ext);
    if (!name.includes('..') && existsSync(p)) return p;
  }
  if (existsSync(nameOrPath)) return nameOrPath;
  throw new UsageError(`no scenario file or shipped scenario named '${nameOrPath}' (copilog emulator --list-scenarios lists the shipped ones; or pass a path to your own YAML or JSON file)`);
}

/** The names of the shipped scenarios, as --scenario accepts them ("doctor/ok"). */
export function listScenarios(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (EXT.test(e.name)) out.push(relative(SCENARIO_DIR, join(dir, e.name)).replace(/\\/g, '/').replace(EXT, ''));
    }
  };
  walk(SCENARIO_DIR);
  return out;
}
