// Fault injection for the Graph side (per tenant, from the scenario or the control API):
// latency, 5xx answers with Retry-After, connections reset mid-response and truncated bodies.
// Deterministic: a seeded generator per tenant decides, so a failing test can be replayed.
import { createHash } from 'node:crypto';
import type { TenantState } from '../state.js';
import { graphErrors } from './errors.js';
import type { GraphRequest } from './request.js';

const rngs = new WeakMap<object, () => number>();

function rng(t: TenantState): () => number {
  let r = rngs.get(t.faults);
  if (!r) {
    let a = createHash('sha256').update(t.faults.seed).digest().readUInt32LE(0);
    r = () => {
      // mulberry32
      a = (a + 0x6d2b79f5) | 0;
      let x = Math.imul(a ^ (a >>> 15), 1 | a);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    rngs.set(t.faults, r);
  }
  return r;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export const formatRetryAfter = (seconds: number, style: 'integer' | 'decimal'): string =>
  style === 'decimal' ? Math.max(0.001, seconds).toFixed(3) : String(Math.max(1, Math.ceil(seconds)));

/** Latency and injected 5xx; call after the authorization gates. */
export async function applyFaults(r: GraphRequest): Promise<void> {
  const f = r.tenant.faults;
  const next = rng(r.tenant);
  let delay = f.latencyMs;
  if (f.latencyJitterMs > 0) {
    const u = next();
    delay += f.latencyDistribution === 'exponential' ? -Math.log(1 - u) * f.latencyJitterMs : f.latencyDistribution === 'uniform' ? u * f.latencyJitterMs : 0;
  }
  if (delay > 0) await sleep(delay);
  if (f.errorRate > 0 && next() < f.errorRate) {
    const status = f.errorStatuses[Math.floor(next() * f.errorStatuses.length)] ?? 503;
    r.req.log.info({ event: 'graph.fault', fault: status }, 'injected fault');
    throw graphErrors.unavailable(status, formatRetryAfter(f.errorRetryAfter, r.tenant.behaviours.retryAfter));
  }
}

/**
 * Send a JSON body, unless a reset or truncation fault is drawn: then write the headers and
 * part of the body by hand and cut the connection. Returns true when it took over the reply.
 */
export function sendBroken(r: GraphRequest, body: string): boolean {
  const f = r.tenant.faults;
  if (f.resetRate === 0 && f.truncateRate === 0) return false;
  const next = rng(r.tenant);
  const reset = f.resetRate > 0 && next() < f.resetRate;
  const truncate = !reset && f.truncateRate > 0 && next() < f.truncateRate;
  if (!reset && !truncate) return false;
  const text = Buffer.from(body);
  const cut = text.subarray(0, Math.max(1, Math.floor(text.length / 2)));
  r.req.log.info({ event: 'graph.fault', fault: reset ? 'reset' : 'truncate' }, 'injected fault');
  r.reply.hijack();
  const raw = r.reply.raw;
  const headers = r.reply.getHeaders();
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) raw.setHeader(k, v as string);
  raw.setHeader('content-type', 'application/json');
  raw.setHeader('content-length', String(text.length));
  raw.writeHead(200);
  raw.write(cut, () => {
    // A reset kills the socket at once; a truncation ends it cleanly but short of Content-Length.
    if (reset) resetSocket(raw.socket);
    else raw.socket?.end();
  });
  return true;
}

/**
 * Send a TCP RST. resetAndDestroy() throws ERR_INVALID_HANDLE_TYPE on a TLS socket (its handle
 * is a TLSWrap), so reset the TCP socket underneath it, then drop the TLS socket too.
 */
function resetSocket(socket: import('node:net').Socket | null): void {
  if (!socket) return;
  const tcp = (socket as { _parent?: import('node:net').Socket })._parent ?? socket;
  try {
    tcp.resetAndDestroy();
  } catch {
    tcp.destroy();
  }
  socket.destroy();
}
