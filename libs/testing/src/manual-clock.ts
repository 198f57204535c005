import type { Cancel, Clock } from '@parley/platform';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
}

/**
 * A clock that moves only when the test moves it: timed logic under test waits exactly as long
 * as the test says, never on the machine's speed. Timers due at the same moment run in the order
 * they were scheduled.
 */
export class ManualClock implements Clock {
  private timers: Timer[] = [];
  private scheduled = 0;

  constructor(private current = Date.UTC(2026, 10, 26, 12)) {}

  now(): number {
    return this.current;
  }

  schedule(ms: number, fn: () => void): Cancel {
    const timer = { at: this.current + Math.max(0, ms), order: this.scheduled++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** How long until each waiting timer is due, soonest first. */
  pending(): number[] {
    return this.sorted().map((t) => t.at - this.current);
  }

  /** Moves time forward by `ms`, running each timer that falls due at its own moment, in order. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.sorted()[0];
      if (!next || next.at > end) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = next.at;
      next.fn();
    }
    this.current = end;
  }

  private sorted(): Timer[] {
    return [...this.timers].sort((a, b) => a.at - b.at || a.order - b.order);
  }
}
