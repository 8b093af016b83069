// Usage errors never echo a secret: a client secret passed to the wrong flag (--client-id), under a
// misspelt flag, or in the environment is redacted from everything the real CLI prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactMessage, secretArgs } from '../src/cli/redact.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'copilog.js');

/** An Entra-shaped client secret (made up), and an older free-form one. */
const SECRET = 'Xy98Q~abcdefghijklmnopqrstuvwxyz0123456';
const OLD_SECRET = 'kP3[mZ:9qR@vL2*xT7]wN4yH6';

function copilog(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AZURE_|COPILOG_)/.test(k)) clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...clean, COPILOG_HOME: join(ROOT, '.no-such-copilog-home'), ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end();
  });
}

test('a client secret given to --client-id is not printed in the usage error', async () => {
  for (const s of [SECRET, OLD_SECRET]) {
    for (const args of [['doctor', '--client-id', s], ['doctor', `--client-id=${s}`]]) {
      const r = await copilog(args);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /--client-id must be an application \(client\) id/);
      assert.ok(!r.out.includes(s), `the secret leaked: ${r.out}`);
      assert.match(r.out, /\[redacted/);
    }
  }
});

test('a secret under a misspelt flag, or in another flag’s error, is not printed either', async () => {
  const misspelt = await copilog(['doctor', `--client-secrt=${OLD_SECRET}`]);
  assert.notEqual(misspelt.code, 0);
  assert.match(misspelt.out, /unknown option/);
  assert.ok(!misspelt.out.includes(OLD_SECRET), misspelt.out);
  // The real secret flag's value is redacted wherever it turns up.
  const tenant = await copilog(['doctor', '--client-secret', 'plainsecretvalue', '--tenant', 'plainsecretvalue']);
  assert.equal(tenant.code, 2, tenant.out);
  assert.ok(!tenant.out.includes('plainsecretvalue'), tenant.out);
  const env = await copilog(['doctor', '--tenant', 'envsecretvalue'], { AZURE_CLIENT_SECRET: 'envsecretvalue' });
  assert.ok(!env.out.includes('envsecretvalue'), env.out);
});

test('ordinary values stay readable: ids, domains, paths, URLs, short words', () => {
  for (const v of ['contoso', 'not_a_domain', 'contoso.onmicrosoft.com', '00000000-0000-0000-0000-00000000000g', '/home/me/certs/app.pem', 'https://graph.microsoft.com/.default', 'megan@contoso.com', '8443']) {
    const text = `copilog: --x must be something, not '${v}'`;
    assert.equal(redactMessage(text, [], {}), text, v);
  }
  assert.equal(redactMessage(`not '${SECRET}'`, [], {}), "not '[redacted secret]'");
  assert.equal(redactMessage(`not 'a1B2c3D4e5F6g7H8i9J0k'`, [], {}), "not '[redacted]'");
  assert.deepEqual(secretArgs(['node', 'copilog', '--client-secret', 'abcdef', '--access-token=eyJabc', '--access-token', '-']), ['abcdef', 'eyJabc']);
});
