// The one rate limiter an export's workers share: Graph counts this API per app per tenant (30
// requests/s documented, graph-facts §7), so the limit belongs to the tenant, not to a request.
// Requests are spaced evenly (GCRA, a small burst allowed); a Retry-After that any request gets
// pauses every request; each throttle trims the rate a little, and calm time restores it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Exchange, RequestGate } from '../client/transport.js';

export interface LimiterStats {
  /** Answers with status 429. */
  throttled: number;
  /** The longest pause a Retry-After imposed, in ms. */
  longestPauseMs: number;
  /** Recent latency of answered requests (EWMA), ms. */
  latencyMs: number;
  /** The rate in force now (≤ the configured rate). */
  rate: number;
}

export class RateLimiter implements RequestGate {
  private tat = 0;
  private pausedUntil = 0;
  private current: number;
  private lastThrottleAt = 0;
  private ewma = 0;
  readonly stats: LimiterStats;

  /**
   * @param rate requests per second for the whole tenant (all workers together)
   * @param burst how many requests may leave at once after a quiet spell
   * @param now the clock (tests pass their own)
   */
  constructor(readonly rate: number, private readonly burst = Math.max(1, Math.min(5, Math.floor(rate))), private readonly now: () => number = Date.now) {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, not ${rate}`);
    this.current = rate;
    this.stats = { throttled: 0, longestPauseMs: 0, latencyMs: 0, rate };
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      this.recover();
      const now = this.now();
      const interval = 1000 / this.current;
      const earliest = Math.max(now, this.pausedUntil, this.tat - (this.burst - 1) * interval);
      this.tat = Math.max(this.tat, earliest) + interval;
      const wait = earliest - now;
      if (wait <= 0) return;
      await sleep(wait, undefined, signal ? { signal } : undefined);
      // A Retry-After that arrived while this request waited for its slot holds it too.
      if (this.now() >= this.pausedUntil) return;
    }
  }

  backOff(ms: number, status: number): void {
    // While a pause holds, no request leaves the gate: a 429 that arrives then answers a request
    // sent before the first one, so it is the same throttling event, not a new one to slow for.
    const alreadyPaused = this.now() < this.pausedUntil;
    const until = this.now() + ms;
    if (until > this.pausedUntil) this.pausedUntil = until;
    this.stats.longestPauseMs = Math.max(this.stats.longestPauseMs, ms);
    if (status === 429 && !alreadyPaused) {
      // Someone else (another process, the doctor) may share the app's budget: slow down a little.
      this.current = Math.max(this.rate / 2, this.current * 0.9);
      this.lastThrottleAt = this.now();
      this.stats.rate = this.current;
    }
  }

  settled(e: Exchange): void {
    if (e.status === 429) this.stats.throttled++;
    if (e.status > 0 && e.status !== 429) this.ewma = this.ewma === 0 ? e.durationMs : this.ewma * 0.8 + e.durationMs * 0.2;
    this.stats.latencyMs = Math.round(this.ewma);
  }

  /** Milliseconds the tenant is still paused for (0 when not). */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  /** After 10 s without a throttle, the rate climbs back by 5% a second toward the configured one. */
  private recover(): void {
    if (this.current >= this.rate) return;
    const calm = this.now() - this.lastThrottleAt - 10_000;
    if (calm <= 0) return;
    this.current = Math.min(this.rate, this.current * (1 + 0.05 * (calm / 1000)));
    this.lastThrottleAt = this.now() - 10_000;
    this.stats.rate = this.current;
  }

  /**
   * How many requests should be in flight to keep the rate busy (Little's law: rate × latency),
   * with headroom; `max` bounds it.
   */
  wantedConcurrency(max: number): number {
    const latencySec = (this.ewma || 250) / 1000;
    return Math.max(1, Math.min(max, Math.ceil(this.current * latencySec * 1.5) + 1));
  }
}
