// What the export API saw, for tests and benchmarks to check that limits held: per tenant and
// per app, requests, 429s, and the highest number of requests admitted in any one-second window
// (sliding, not calendar seconds). The same sliding window enforces Graph's per-app limit across
// tenants (1,500 requests/s by default).

/**
 * Arrival times of the last second, in order, with the highest count any one-second window held.
 * Requests are counted when they arrived, and their gates take different times, so a time can come
 * a little after a later one: it is put in its place.
 */
class SlidingSecond {
  private readonly times: number[] = [];
  private head = 0;
  peak = 0;

  /** The first index from `head` whose time is above `t`. */
  private after(t: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** How many fall in (t - 1 s, t]. */
  count(t: number): number {
    return this.after(t) - this.after(t - 1000);
  }

  /** Forget what no window of the latest second can hold. */
  private prune(): void {
    const latest = this.times[this.times.length - 1];
    if (latest === undefined) return;
    // A little more than a second is kept, for the times that come late.
    while (this.head < this.times.length && this.times[this.head]! <= latest - 5000) this.head++;
    if (this.head > 4096) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }

  add(t: number): void {
    let i = this.times.length;
    while (i > this.head && this.times[i - 1]! > t) i--;
    this.times.splice(i, 0, t);
    // The windows ending at this time and at the later ones within a second of it gained one.
    for (let j = i; j < this.times.length && this.times[j]! < t + 1000; j++) this.peak = Math.max(this.peak, this.count(this.times[j]!));
    this.prune();
  }

  /** Milliseconds until one more would fit under `limit` at `t`. */
  waitFor(limit: number, t: number): number {
    const from = this.after(t - 1000);
    const n = this.after(t) - from;
    if (n < limit) return 0;
    return this.times[from + (n - Math.floor(limit))]! + 1000 - t;
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
