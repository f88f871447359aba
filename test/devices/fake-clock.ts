/**
 * Test doubles for the device seams: a Clock whose time the test moves by hand and that fires
 * scheduled timers in deadline order with `now` equal to each deadline (what the run loop does
 * when it stops exactly at the deadline), and an IrqLine that records its edges.
 */
import type { Clock, IrqLine, TimerOwner } from '../../src/devices/device.js';

export class FakeClock implements Clock {
  t = 0;
  readonly timers = new Map<TimerOwner, number>();
  /** Every firing as [owner, at], in order. */
  readonly fired: number[] = [];

  constructor(readonly ips: number) {}

  now(): number {
    return this.t;
  }

  schedule(owner: TimerOwner, at: number): void {
    this.timers.set(owner, at);
  }

  cancel(owner: TimerOwner): void {
    this.timers.delete(owner);
  }

  deadline(owner: TimerOwner): number | undefined {
    return this.timers.get(owner);
  }

  /** Runs time forward to `target`, firing each timer that falls due on its own deadline. */
  advanceTo(target: number): void {
    for (;;) {
      let owner: TimerOwner | null = null;
      let at = Infinity;
      for (const [o, d] of this.timers) if (d <= target && d < at) [owner, at] = [o, d];
      if (owner === null) break;
      this.timers.delete(owner);
      if (at > this.t) this.t = at;
      this.fired.push(this.t);
      owner.onTimer(this.t);
    }
    if (target > this.t) this.t = target;
  }

  advance(n: number): void {
    this.advanceTo(this.t + n);
  }
}

export class FakeIrq implements IrqLine {
  level = false;
  /** Low-to-high transitions seen. */
  rises = 0;
  /** Instruction counts of the rises, when given a clock. */
  readonly riseTimes: number[] = [];

  constructor(private readonly clock: Clock | null = null) {}

  raise(): void {
    if (!this.level) {
      this.rises++;
      if (this.clock !== null) this.riseTimes.push(this.clock.now());
    }
    this.level = true;
  }

  lower(): void {
    this.level = false;
  }
}
