/**
 * Virtual time (ARCHITECTURE.md §7): the guest's clock is its instruction counter, so a run of an
 * image with the same input is deterministic. Devices schedule deadlines in instructions; the run
 * loop never lets an engine run past the earliest one, then fires every timer that is due.
 * `ips` (guest instructions per guest second, `--ips`) converts to seconds for the devices that
 * count in real units (PIT, LAPIC timer, RTC).
 */
import { OFF_EXIT_REQUEST, OFF_INSN_COUNT, OFF_NEXT_DEADLINE, type StateViews } from '../cpu/state.js';
import type { Clock, TimerOwner } from '../devices/device.js';

export const DEFAULT_IPS = 100_000_000;
/** The RTC's time at power-on unless --realtime: 2026-01-01 00:00:00 UTC, so runs are reproducible. */
export const FIXED_RTC_START = Date.UTC(2026, 0, 1) / 1000;
const NEVER = Number.MAX_SAFE_INTEGER;

export class VirtualClock implements Clock {
  private readonly owners: TimerOwner[] = [];
  private readonly deadlines: number[] = [];
  /** Timer callbacks run so far, for --stats. */
  fired = 0;

  constructor(
    private readonly views: StateViews,
    readonly ips: number,
  ) {
    this.publish();
  }

  now(): number {
    return this.views.getNum(OFF_INSN_COUNT);
  }

  /** Moves virtual time forward without executing (HLT waiting for the next timer). */
  advanceTo(at: number): void {
    if (at > this.now()) this.views.setNum(OFF_INSN_COUNT, at);
  }

  schedule(owner: TimerOwner, at: number): void {
    // A deadline earlier than the published one may fall inside the engine run that is going on
    // (a guest programming the PIT or LAPIC timer): ask the engine to return at the next boundary
    // so the run loop stops the next run there, instead of firing the timer late at the run's end.
    if (at < this.views.getNum(OFF_NEXT_DEADLINE)) this.views.u32[OFF_EXIT_REQUEST >>> 2] |= 1;
    const i = this.owners.indexOf(owner);
    if (i >= 0) this.deadlines[i] = at;
    else {
      this.owners.push(owner);
      this.deadlines.push(at);
    }
    this.publish();
  }

  cancel(owner: TimerOwner): void {
    const i = this.owners.indexOf(owner);
    if (i < 0) return;
    this.owners.splice(i, 1);
    this.deadlines.splice(i, 1);
    this.publish();
  }

  /** The earliest deadline, or Number.MAX_SAFE_INTEGER when no timer is armed. */
  nextDeadline(): number {
    let d = NEVER;
    for (let i = 0; i < this.deadlines.length; i++) if (this.deadlines[i] < d) d = this.deadlines[i];
    return d;
  }

  hasTimers(): boolean {
    return this.owners.length > 0;
  }

  /** Fires every timer whose deadline has passed (a timer may re-arm itself from its callback). */
  fireDue(): void {
    const now = this.now();
    for (;;) {
      let idx = -1;
      for (let i = 0; i < this.deadlines.length; i++) {
        if (this.deadlines[i] <= now && (idx < 0 || this.deadlines[i] < this.deadlines[idx])) idx = i;
      }
      if (idx < 0) break;
      const owner = this.owners[idx];
      this.owners.splice(idx, 1);
      this.deadlines.splice(idx, 1);
      this.fired++;
      owner.onTimer(now);
    }
    this.publish();
  }

  private publish(): void {
    this.views.setNum(OFF_NEXT_DEADLINE, this.nextDeadline());
  }
}
