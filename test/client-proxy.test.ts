// Entra ID and Graph through an HTTPS proxy (HTTPS_PROXY, NO_PROXY), as corporate networks need:
// a real CONNECT proxy on loopback in front of a real emulator, real MSAL for the token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createClient, proxyFromEnv, resolveConfig, type ClientConfig } from '../src/client/index.js';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { startConnectProxy, type TestProxy } from './support/proxy.js';

let emu: TestEmulator;
let config: ClientConfig;
let proxy: TestProxy;
let refusing: TestProxy;

before(async () => {
  emu = await withEmulator(join(SCENARIO_DIR, 'doctor', 'ok.yaml'));
  config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {});
  proxy = await startConnectProxy();
  refusing = await startConnectProxy({ refuse: true });
});
after(async () => {
  await emu?.close();
  await proxy?.close();
  await refusing?.close();
});

/** A token from Entra ID (MSAL) and a Graph read, with these proxy variables in the environment. */
async function tokenAndGraph(env: Record<string, string>): Promise<number> {
  const saved = { ...process.env };
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[k];
  Object.assign(process.env, env);
  const client = createClient(config);
  try {
    await client.credential.getToken(config.scope);
    const users = await client.graph.list<{ id: string }>('/users', { $select: 'id' }, { maxPages: 1 });
    return users.length;
  } finally {
    await client.close();
    process.env = saved;
  }
}

describe('HTTPS_PROXY and NO_PROXY', () => {
  test('with HTTPS_PROXY the token and Graph requests go through the proxy\'s CONNECT tunnel', async () => {
    const before = proxy.tunnels.length;
    const n = await tokenAndGraph({ HTTPS_PROXY: proxy.url, NO_PROXY: 'example.invalid' });
    assert.ok(n > 0);
    const host = new URL(emu.url).host;
    assert.ok(proxy.tunnels.slice(before).length >= 1, 'no tunnel');
    assert.ok(proxy.tunnels.slice(before).every((t) => t === host), proxy.tunnels.join());
  });

  test('a proxy that refuses the tunnel stops the token request: nothing went around it', async () => {
    await assert.rejects(tokenAndGraph({ https_proxy: refusing.url, no_proxy: 'example.invalid' }));
    assert.ok(refusing.tunnels.length >= 1);
  });

  test('NO_PROXY naming the host bypasses the proxy; unset, loopback goes direct', async () => {
    const before = refusing.tunnels.length;
    assert.ok((await tokenAndGraph({ HTTPS_PROXY: refusing.url, NO_PROXY: '127.0.0.1' })) > 0);
    assert.ok((await tokenAndGraph({ HTTPS_PROXY: refusing.url, NO_PROXY: `.invalid, 127.0.0.1:${new URL(emu.url).port}` })) > 0);
    assert.ok((await tokenAndGraph({ HTTPS_PROXY: refusing.url })) > 0);
    assert.equal(refusing.tunnels.length, before);
  });

  test('lower-case names come first, as curl reads them', () => {
    assert.deepEqual(proxyFromEnv({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', NO_PROXY: 'x' }), { httpsProxy: 'http://a:1', noProxy: 'x' });
    assert.deepEqual(proxyFromEnv({}), { httpsProxy: undefined, noProxy: undefined });
  });
});
