// The doctor's human report: colour on a TTY (NO_COLOR or FORCE_COLOR=0 turn it off, any other FORCE_COLOR on), plain
// text otherwise. --json prints the report object instead (commands/doctor.ts).
import type { Candidate, CheckResult, CheckStatus, DoctorReport } from './types.js';

export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  // FORCE_COLOR=0 (or false) forces colour off, any other value on, as Node and chalk read it.
  if (env.FORCE_COLOR !== undefined) {
    if (env.FORCE_COLOR === '0' || env.FORCE_COLOR.toLowerCase() === 'false') return false;
    return true;
  }
  return !!stream.isTTY && env.TERM !== 'dumb';
}

type Paint = (s: string) => string;
interface Palette { bold: Paint; dim: Paint; red: Paint; green: Paint; yellow: Paint; grey: Paint; cyan: Paint }

const sgr = (open: number, close: number): Paint => (s) => `\x1b[${open}m${s}\x1b[${close}m`;
const COLOUR: Palette = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), grey: sgr(90, 39), cyan: sgr(36, 39) };
const id: Paint = (s) => s;
const PLAIN: Palette = { bold: id, dim: id, red: id, green: id, yellow: id, grey: id, cyan: id };

export function renderHuman(r: DoctorReport, colour: boolean): string {
  const p = colour ? COLOUR : PLAIN;
  const badge: Record<CheckStatus, string> = {
    pass: p.green('PASS'), warn: p.yellow('WARN'), fail: p.red('FAIL'), skip: p.grey('SKIP'),
  };
  const out: string[] = [];
  const target = r.emulator ? `emulator ${r.emulator.url}, scenario ${r.emulator.scenario}` : `${r.cloud} cloud`;
  out.push(p.bold('copilog doctor'), `  tenant ${r.tenantId || '-'}  ·  app ${r.appId || '-'}  ·  ${target}`, `  started ${r.startedAt}, took ${r.durationMs} ms`, '');

  const line = (c: CheckResult) => {
    out.push(`  ${badge[c.status]}  ${p.bold(c.id.padEnd(13))} ${c.title}`);
    const paint = c.status === 'pass' ? p.dim : id;
    for (const e of c.evidence) out.push(paint(`          · ${e}`));
    if (c.fix && c.status !== 'pass') out.push(`          ${p.cyan('fix:')} ${c.fix}`);
    if (c.docs && (c.status === 'fail' || c.status === 'warn')) out.push(p.dim(`          docs: ${c.docs}`));
  };
  for (const c of r.checks) line(c);
  out.push('');

  const v = r.verdict.primary;
  const head = v.code === 'ok' ? p.green : v.code === 'unknown' ? p.yellow : p.red;
  out.push(`${p.bold('Verdict:')} ${head(p.bold(v.code))}: ${v.title}${v.user ? ` (${v.user})` : ''}`);
  out.push(`  ${v.explanation}`);
  for (const s of v.supports) out.push(`  ${p.green('+')} ${s}`);
  for (const s of v.weakens) out.push(`  ${p.red('−')} ${s}`);
  if (v.code !== 'ok') out.push(`  ${p.cyan('Fix:')} ${v.fix}`);
  out.push(p.dim(`  Docs: ${v.docs}`));

  const shown = r.verdict.candidates.filter((c) => c.likelihood !== 'unlikely');
  const ruledOut = r.verdict.candidates.filter((c) => c.likelihood === 'unlikely');
  if (shown.length) {
    out.push('', p.bold('Other candidates:'));
    shown.forEach((c, i) => candidate(out, p, c, i + 1));
  }
  if (ruledOut.length) {
    out.push('', p.bold('Ruled out:'));
    for (const c of ruledOut) out.push(`  ${p.dim(c.code)}${c.user ? p.dim(` (${c.user})`) : ''}: ${c.weakens.join('; ')}`);
  }
  if (r.users.length > 1) {
    out.push('', p.bold('Per user:'));
    for (const u of r.users) out.push(`  ${u.userPrincipalName ?? u.key}: ${u.verdict === 'ok' ? p.green('ok') : p.red(u.verdict ?? '-')}`);
  }
  if (r.bundle) out.push('', `Support bundle: ${r.bundle.files.join(', ')}`);
  else if (v.code !== 'ok') out.push('', p.dim('Write a support bundle with --bundle DIR.'));
  return out.join('\n') + '\n';
}

function candidate(out: string[], p: Palette, c: Candidate, n: number): void {
  out.push(`  ${n}. ${p.bold(c.code)} (${c.likelihood}${c.blockedBy ? `; cannot help while ${c.blockedBy} stands` : ''})${c.user ? ` for ${c.user}` : ''}: ${c.title}`);
  for (const s of c.supports) out.push(`       ${p.green('+')} ${s}`);
  for (const s of c.weakens) out.push(`       ${p.red('−')} ${s}`);
  out.push(`       ${p.cyan('fix:')} ${c.fix}`);
}
