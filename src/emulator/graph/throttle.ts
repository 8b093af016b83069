// Graph's throttling for the export API: a token bucket per app per tenant (30 requests/second
// documented). A client that retries before Retry-After elapses meets an empty bucket again.
export class Throttle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Take one request from the bucket; returns the seconds to wait when it is empty. */
  take(key: string, perSecond: number, nowMs: number): number | undefined {
    const b = this.buckets.get(key) ?? { tokens: perSecond, at: nowMs };
    const refill = ((nowMs - b.at) / 1000) * perSecond;
    b.tokens = Math.min(perSecond, b.tokens + Math.max(0, refill));
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return (1 - b.tokens) / perSecond;
  }

  reset(): void {
    this.buckets.clear();
  }
}
