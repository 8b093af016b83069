// The one clock of the emulator: tokens, licences, ingestion and throttling all read it, so a
// test can move time (expire a token, age a secret) through the control API.
export class Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  constructor(start?: string, frozen = false) {
    if (start) this.set(start);
    if (frozen) this.freeze(true);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Back to real time, running. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = undefined;
  }

  set(iso: string): void {
    const target = Date.parse(iso);
    if (Number.isNaN(target)) throw new Error(`not a date-time: ${iso}`);
    if (this.frozenAt !== undefined) this.frozenAt = target;
    else this.offsetMs = target - Date.now();
  }

  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  freeze(on: boolean): void {
    if (on && this.frozenAt === undefined) this.frozenAt = this.nowMs();
    if (!on && this.frozenAt !== undefined) {
      this.offsetMs = this.frozenAt - Date.now();
      this.frozenAt = undefined;
    }
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  /** "-30d", "+2h" or an ISO date-time, resolved against now. */
  resolve(when: string): Date {
    const m = /^([+-])(\d+)(ms|s|m|h|d)$/.exec(when);
    if (!m) return new Date(when);
    const unit = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[3] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return new Date(this.nowMs() + (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit);
  }
}
