// The support bundle (support-bundle.md for people, support-bundle.json for tools) and the one
// redaction pass every byte the doctor writes or prints goes through: no JWT-looking string, no
// configured secret, no client assertion and no Authorization value survives it.
import { accessSync, constants, existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { BundleInfo, DoctorReport } from './types.js';

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const AUTH_HEADER = /("?authorization"?\s*[:=]\s*"?)[^"\n,}]+/gi;
const FORM_SECRETS = /\b(client_secret|client_assertion|access_token|refresh_token|id_token|password)=([^&\s"]+)/gi;

/** Remove every secret-looking value from text: JWTs, bearer values, form secrets and the given literals. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted secret]');
  }
  return out
    .replace(JWT_LIKE, '[redacted token]')
    .replace(BEARER, '$1 [redacted]')
    .replace(AUTH_HEADER, '$1[redacted]')
    .replace(FORM_SECRETS, (_m, k: string) => `${k}=[redacted]`);
}

/** The failing requests (status 0 = no answer): what a support engineer looks up. */
export const failingRequests = (r: DoctorReport) => r.requests.filter((e) => e.status === 0 || e.status >= 400);

export function bundleJson(r: DoctorReport): unknown {
  return {
    kind: 'copilog-doctor-support-bundle',
    version: r.version,
    tool: r.tool,
    generatedAt: new Date().toISOString(),
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    tenantId: r.tenantId,
    appId: r.appId,
    cloud: r.cloud,
    mode: r.mode,
    ...(r.emulator ? { emulator: r.emulator } : {}),
    users: r.users.map((u) => ({ key: u.key, id: u.id ?? null, userPrincipalName: u.userPrincipalName ?? null, verdict: u.verdict ?? null, probe: u.probe ?? null })),
    verdict: r.verdict,
    claims: r.claims ?? null,
    failingRequests: failingRequests(r).map((e) => ({
      method: e.method, url: e.url, status: e.status, code: e.errorCode ?? null, message: e.errorMessage ?? null,
      requestId: e.requestId ?? null, clientRequestId: e.clientRequestId, date: e.date ?? null, agsDiagnostic: e.agsDiagnostic ?? null,
      startedAt: e.startedAt, attempt: e.attempt,
    })),
    checks: r.checks,
    requests: r.requests,
  };
}

export function bundleMarkdown(r: DoctorReport): string {
  const v = r.verdict.primary;
  const lines: string[] = [
    '# copilog doctor: support bundle',
    '',
    `Generated ${new Date().toISOString()} (UTC) by ${r.tool}. Contains no secrets, tokens or interaction content.`,
    '',
    '| | |',
    '|---|---|',
    `| Started (UTC) | ${r.startedAt} |`,
    `| Finished (UTC) | ${r.finishedAt} |`,
    `| Tenant id | ${r.tenantId} |`,
    `| App (client) id | ${r.appId} |`,
    `| Cloud | ${r.cloud}${r.emulator ? ` (emulator ${r.emulator.url}, scenario ${r.emulator.scenario})` : ''} |`,
    ...r.users.map((u) => `| User | ${u.userPrincipalName ?? u.key} (${u.id ?? 'id unknown'}): ${u.verdict ?? '-'} |`),
    '',
    `## Verdict: \`${v.code}\`: ${v.title}`,
    '',
    v.explanation,
    '',
    ...v.supports.map((s) => `- ${s}`),
    ...v.weakens.map((s) => `- (against) ${s}`),
    '',
    `**Fix:** ${v.fix}`,
    '',
    `Docs: ${v.docs}`,
    '',
  ];
  if (r.verdict.candidates.length) {
    lines.push('### Other candidates', '');
    for (const c of r.verdict.candidates) {
      lines.push(`- \`${c.code}\` (${c.likelihood})${c.user ? ` for ${c.user}` : ''}: ${c.title}`);
      for (const s of c.supports) lines.push(`  - for: ${s}`);
      for (const s of c.weakens) lines.push(`  - against: ${s}`);
    }
    lines.push('');
  }
  const failing = failingRequests(r);
  lines.push('## Failing requests', '');
  if (failing.length === 0) lines.push('None.', '');
  for (const e of failing) {
    lines.push(
      `### ${e.method} ${e.url}`, '',
      `- status: ${e.status === 0 ? 'no answer' : e.status}`,
      `- code: ${e.errorCode ?? '-'}`,
      `- message: ${e.errorMessage ?? '-'}`,
      `- request-id: ${e.requestId ?? '-'}`,
      `- client-request-id: ${e.clientRequestId}`,
      `- Date: ${e.date ?? '-'}`,
      `- x-ms-ags-diagnostic: ${e.agsDiagnostic ?? '-'}`,
      `- sent (UTC): ${e.startedAt}, attempt ${e.attempt}, ${e.durationMs} ms`,
      '',
    );
  }
  lines.push('## Token claims (decoded; the token itself is not included)', '');
  if (r.claims) {
    for (const [k, val] of Object.entries(r.claims)) lines.push(`- ${k}: ${Array.isArray(val) ? val.join(', ') || '(none)' : String(val)}`);
  } else lines.push('No token was obtained.');
  lines.push('', '## Checks', '');
  for (const c of r.checks) {
    lines.push(`### ${c.status.toUpperCase()} \`${c.id}\`${c.user ? ` (${c.user})` : ''}: ${c.title}`, '');
    for (const e of c.evidence) lines.push(`- ${e}`);
    if (c.fix) lines.push(`- fix: ${c.fix}`);
    if (c.docs) lines.push(`- docs: ${c.docs}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Kernel pseudo file systems: never a place for a bundle (and Node 20's recursive mkdir can hang on /proc). */
const PSEUDO_ROOTS = ['/proc', '/sys'];

/**
 * Check (and create) the bundle directory before the run, so a bad --bundle is a usage error up
 * front rather than a lost bundle afterwards. Throws an Error whose message names the problem.
 */
export function prepareBundleDir(dir: string): string {
  const abs = resolve(dir);
  let existing = abs;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let real = abs;
  try {
    real = join(realpathSync(existing), relative(existing, abs));
  } catch {
    // Keep the path as given.
  }
  const pseudo = PSEUDO_ROOTS.find((r) => [abs, real].some((p) => p === r || p.startsWith(`${r}/`)));
  if (pseudo) throw new Error(`--bundle ${dir} is under ${pseudo}, a kernel pseudo file system: choose a directory on disk`);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new Error(`--bundle ${dir} exists and is not a directory`);
    try {
      accessSync(abs, constants.W_OK);
    } catch {
      throw new Error(`--bundle ${dir} is not writable`);
    }
    return abs;
  }
  try {
    // A plain mkdir when the parent exists; only a missing chain needs the recursive form.
    if (existsSync(dirname(abs))) mkdirSync(abs);
    else mkdirSync(abs, { recursive: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`--bundle ${dir}: cannot create the directory (${err.code ?? 'error'}: ${err.message})`);
  }
  return abs;
}

/** Write support-bundle.md and support-bundle.json into dir (see prepareBundleDir), redacted. */
export function writeBundle(dir: string, report: DoctorReport, secrets: readonly string[]): BundleInfo {
  const abs = prepareBundleDir(dir);
  const md = join(abs, 'support-bundle.md');
  const json = join(abs, 'support-bundle.json');
  writeFileSync(md, redact(bundleMarkdown(report), secrets) + '\n');
  writeFileSync(json, redact(JSON.stringify(bundleJson(report), null, 2), secrets) + '\n');
  return { dir: abs, files: [md, json] };
}
