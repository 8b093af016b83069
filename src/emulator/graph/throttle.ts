// Graph's throttling for the export API: a token bucket per app per tenant (30 requests/second
// documented). Once a request is refused, the caller is blocked until the Retry-After it was
// given has passed, so a client that retries early is throttled again (as Graph does).
// A new bucket starts with one second's budget; it holds at least one request, so a limit below
// 1 request/s (0.5/s) admits one request every 1/limit seconds instead of none at all (the first
// after 1/limit - 1 s: at 0.001/s a nearly nil budget throttles the first request for ~1,000 s).
export class Throttle {
  private readonly buckets = new Map<string, { tokens: number; at: number; blockedUntil: number }>();

  /**
   * Take one request from the bucket. Returns undefined when admitted, else the seconds to wait;
   * `advertise` turns that wait into the Retry-After the caller is told (and held to).
   */
  take(key: string, perSecond: number, nowMs: number, advertise: (seconds: number) => number = (s) => s): number | undefined {
    const capacity = Math.max(1, perSecond);
    const b = this.buckets.get(key) ?? { tokens: perSecond, at: nowMs, blockedUntil: 0 };
    this.buckets.set(key, b);
    if (nowMs < b.blockedUntil) return (b.blockedUntil - nowMs) / 1000;
    b.tokens = Math.min(capacity, b.tokens + Math.max(0, ((nowMs - b.at) / 1000) * perSecond));
    // Arrival times can come a little out of order (their gates take different times).
    b.at = Math.max(b.at, nowMs);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    const wait = advertise((1 - b.tokens) / perSecond);
    b.blockedUntil = nowMs + wait * 1000;
    return wait;
  }

  reset(): void {
    this.buckets.clear();
  }
}
