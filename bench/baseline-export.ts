// The baseline bench/export.ts measures copilog export against: an export written the way
// Microsoft's samples write it. @microsoft/microsoft-graph-client with its default middleware
// (so its default RetryHandler: 3 retries, Retry-After honoured), a token from @azure/identity's
// ClientSecretCredential through TokenCredentialAuthenticationProvider, PageIterator over
// @odata.nextLink, one user after another. Nothing here is copilog code: only the libraries.
//
//   NODE_EXTRA_CA_CERTS=<emulator ca.crt> node --import tsx bench/baseline-export.ts '<json config>'
//
// Config: { url, tenantId, clientId, secret, out, sample?, seed?, sinceIso?, untilIso? }.
// It lists the licensed users (assignedLicenses has the Microsoft 365 Copilot SKU, $top=999,
// PageIterator), then pages each user's history (both createdDateTime bounds in $filter, $top=100)
// and appends each interaction to a JSONL file (`out`, one {"userId","interaction"} a line, the
// shape of the emulator's ground truth; no database, so the baseline pays less for storage than
// copilog's SQLite does). With `sample` N it exports a fixed pseudo-random sample of N of the
// listed users (seeded, so every run takes the same ones) and the caller extrapolates.
// Prints one JSON line: { users, sampled, exported, requests, throttled, listMs, exportMs, durationMs, … }.
import { createWriteStream } from 'node:fs';
import { ClientSecretCredential } from '@azure/identity';
import { Client, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';

interface BaselineConfig {
  url: string;
  tenantId: string;
  clientId: string;
  secret: string;
  out: string;
  sample?: number;
  seed?: number;
  sinceIso?: string;
  untilIso?: string;
}

/** Microsoft 365 Copilot (String_Id Microsoft_365_Copilot). */
const COPILOT_SKU = '639dec6b-bb19-468b-871c-c5c441c4b0cb';

const started = performance.now();
const config = JSON.parse(process.argv[2] ?? '{}') as BaselineConfig;

// Count what goes on the wire (observing, not changing): the Graph client sends through fetch.
let requests = 0;
let throttled = 0;
let listRequests = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  const res = await realFetch(input, init);
  if (/getAllEnterpriseInteractions/i.test(url)) {
    requests++;
    if (res.status === 429) throttled++;
  } else if (/\/v1\.0\/users/i.test(url)) listRequests++;
  return res;
}) as typeof fetch;

/** mulberry32: the same sample for the same seed. */
function sampleOf<T>(list: T[], n: number, seed: number): T[] {
  let a = seed | 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function main(): Promise<void> {
  const scope = 'https://graph.microsoft.com/.default';
  const credential = new ClientSecretCredential(config.tenantId, config.clientId, config.secret, { authorityHost: config.url, disableInstanceDiscovery: true });
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: [scope] });
  const client = Client.initWithMiddleware({ authProvider, baseUrl: `${config.url}/`, customHosts: new Set([new URL(config.url).hostname]) });

  // 1. The licensed users.
  const users: { id: string; userPrincipalName: string }[] = [];
  const first = (await client.api('/users').select('id,userPrincipalName').filter(`assignedLicenses/any(x:x/skuId eq ${COPILOT_SKU})`).top(999).get()) as PageCollection;
  await new PageIterator(client, first, (u) => {
    users.push(u as { id: string; userPrincipalName: string });
    return true;
  }).iterate();
  const listMs = performance.now() - started;

  // 2. Each user's history, one user after another.
  const targets = config.sample && config.sample < users.length ? sampleOf(users, config.sample, config.seed ?? 7) : users;
  const since = config.sinceIso ?? '2023-01-01T00:00:00Z';
  const until = config.untilIso ?? isoSeconds(Date.now());
  const out = createWriteStream(config.out);
  let exported = 0;
  const perUserMs: number[] = [];
  const t0 = performance.now();
  for (const user of targets) {
    const t = performance.now();
    const page = (await client.api(`/copilot/users/${user.id}/interactionHistory/getAllEnterpriseInteractions`)
      .filter(`createdDateTime gt ${since} and createdDateTime lt ${until}`)
      .top(100)
      .get()) as PageCollection;
    await new PageIterator(client, page, (interaction) => {
      out.write(JSON.stringify({ userId: user.id, interaction }) + '\n');
      exported++;
      return true;
    }).iterate();
    perUserMs.push(performance.now() - t);
  }
  const exportMs = performance.now() - t0;
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  process.stdout.write(JSON.stringify({
    users: users.length, sampled: targets.length, exported, requests, throttled, listRequests,
    listMs: Math.round(listMs), exportMs: Math.round(exportMs), durationMs: Math.round(performance.now() - started),
    perUserMedianMs: Math.round([...perUserMs].sort((a, b) => a - b)[Math.floor(perUserMs.length / 2)] ?? 0),
    out: config.out,
  }) + '\n');
}

main().catch((e: unknown) => {
  const err = e as { message?: string; statusCode?: number; code?: string };
  process.stdout.write(JSON.stringify({ ok: false, error: err.message ?? String(e), statusCode: err.statusCode, code: err.code }) + '\n');
  process.exitCode = 1;
});
