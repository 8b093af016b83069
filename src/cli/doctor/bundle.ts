// The support bundle (support-bundle.md for people, support-bundle.json for tools) and the one
// redaction pass every byte the doctor writes or prints goes through: no JWT-looking string, no
// configured secret, no client assertion and no Authorization value survives it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/** Write support-bundle.md and support-bundle.json into dir, redacted. */
export function writeBundle(dir: string, report: DoctorReport, secrets: readonly string[]): BundleInfo {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const md = join(abs, 'support-bundle.md');
  const json = join(abs, 'support-bundle.json');
  writeFileSync(md, redact(bundleMarkdown(report), secrets) + '\n');
  writeFileSync(json, redact(JSON.stringify(bundleJson(report), null, 2), secrets) + '\n');
  return { dir: abs, files: [md, json] };
}
