// Export progress on a terminal: users done/total, interactions, requests/s, throttled, ETA,
// drawn by cli-progress on stderr. Off the terminal nothing is drawn (the summary says it all).
import cliProgress from 'cli-progress';
import type { ExportEvent } from '../export/engine.js';
import type { RateLimiter } from '../export/limiter.js';

export interface ProgressView {
  onEvent(e: ExportEvent): void;
  stop(): void;
}

export function exportProgress(stream: NodeJS.WriteStream, limiter: RateLimiter, enabled = stream.isTTY === true): ProgressView {
  if (!enabled) return { onEvent: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({
    stream,
    format: ' {bar} {value}/{total} users | {interactions} interactions | {rps} req/s | throttled {throttled} | ETA {eta_formatted}',
    barsize: 24,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  let interactions = 0;
  let done = 0;
  const times: number[] = [];
  const payload = () => {
    const now = Date.now();
    while (times.length && times[0]! < now - 5000) times.shift();
    return { interactions: interactions.toLocaleString('en-US'), rps: (times.length / 5).toFixed(1), throttled: limiter.stats.throttled };
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case 'start':
          bar.start(e.users, 0, payload());
          break;
        case 'page':
          interactions += e.items;
          times.push(Date.now());
          bar.update(done, payload());
          break;
        case 'user':
          done++;
          bar.update(done, payload());
          break;
        case 'stopping':
          break;
        default:
          break;
      }
    },
    stop() {
      bar.update(done, payload());
      bar.stop();
    },
  };
}
