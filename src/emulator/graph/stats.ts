// What the export API saw, for tests and benchmarks to check that limits held: per tenant and
// per app, requests, 429s, and the highest number of requests admitted in any one-second window
// (sliding, not calendar seconds). The same sliding window enforces Graph's per-app limit across
// tenants (1,500 requests/s by default).

/** Timestamps of the last second, with the highest count it ever held. */
class SlidingSecond {
  private readonly times: number[] = [];
  private head = 0;
  peak = 0;

  /** How many fall in (now - 1 s, now]. */
  count(nowMs: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= nowMs - 1000) this.head++;
    if (this.head > 4096) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(nowMs: number): void {
    this.times.push(nowMs);
    this.peak = Math.max(this.peak, this.count(nowMs));
  }

  /** Milliseconds until one more would fit under `limit`. */
  waitFor(limit: number, nowMs: number): number {
    const n = this.count(nowMs);
    if (n < limit) return 0;
    return this.times[this.head + (n - Math.floor(limit))]! + 1000 - nowMs;
  }
}

interface Counter { requests: number; throttled: number; window: SlidingSecond; arrivals: SlidingSecond }

const counter = (): Counter => ({ requests: 0, throttled: 0, window: new SlidingSecond(), arrivals: new SlidingSecond() });

export class RequestStats {
  private readonly tenants = new Map<string, Counter>();
  private readonly apps = new Map<string, Counter>();
  private readonly startedAt = Date.now();

  private of(map: Map<string, Counter>, key: string): Counter {
    let c = map.get(key);
    if (!c) map.set(key, (c = counter()));
    return c;
  }

  /** Seconds a request of this app must wait under the cross-tenant limit (undefined: admitted). */
  appWait(appId: string, limit: number, nowMs: number): number | undefined {
    const ms = this.of(this.apps, appId).window.waitFor(limit, nowMs);
    return ms > 0 ? ms / 1000 : undefined;
  }

  record(tenantId: string, appId: string, throttled: boolean, nowMs: number): void {
    for (const c of [this.of(this.tenants, tenantId), this.of(this.apps, appId)]) {
      c.requests++;
      c.arrivals.add(nowMs);
      if (throttled) c.throttled++;
      else c.window.add(nowMs);
    }
  }

  snapshot(): Record<string, unknown> {
    const view = (c: Counter) => ({ requests: c.requests, throttled: c.throttled, peakPerSecond: c.window.peak, peakArrivalsPerSecond: c.arrivals.peak });
    return {
      since: new Date(this.startedAt).toISOString(),
      tenants: Object.fromEntries([...this.tenants].map(([k, c]) => [k, view(c)])),
      apps: Object.fromEntries([...this.apps].map(([k, c]) => [k, view(c)])),
    };
  }
}
