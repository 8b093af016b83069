// Command-line options of the bench scripts: known flags only, a value after each, numbers in range.
export function benchArgs(script: string, known: string[], argv = process.argv.slice(2)) {
  const set = new Set(known);
  const unknown = argv.filter((a) => a.startsWith('--') && !set.has(a));
  if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(' ')}; see the header of bench/${script}`);
  const value = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const v = Number(value(name, String(fallback)));
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return v;
  };
  return { argv, value, num, flag: (name: string) => argv.includes(`--${name}`) };
}
