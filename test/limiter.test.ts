// The export's shared rate limiter, on a clock the test moves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../src/export/limiter.js';

test('429s answering requests sent before the first 429 are one throttling event: the rate is trimmed once', () => {
  let now = 1_000_000;
  const limiter = new RateLimiter(30, 5, () => now);
  // Ten requests in flight all come back 429 within the pause the first one started.
  for (let i = 0; i < 10; i++) {
    limiter.backOff(1000, 429);
    now += 20;
  }
  assert.equal(limiter.stats.rate, 27);
  assert.ok(limiter.pausedForMs() > 0);
  // A 429 after the pause has ended is a new event: trimmed again.
  now += 2000;
  limiter.backOff(1000, 429);
  assert.ok(Math.abs(limiter.stats.rate - 24.3) < 1e-9, String(limiter.stats.rate));
});

test('a 503 pause holds every request but does not trim the rate', () => {
  let now = 0;
  const limiter = new RateLimiter(30, 5, () => now);
  limiter.backOff(2000, 503);
  assert.equal(limiter.stats.rate, 30);
  assert.equal(limiter.pausedForMs(), 2000);
  now += 2500;
  assert.equal(limiter.pausedForMs(), 0);
});
