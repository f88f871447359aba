/**
 * The Intel 8254 programmable interval timer as wired on a PC: three counters at ports 0x40-0x42,
 * the control word at 0x43, a 1.193182 MHz input clock, counter 0's OUT on IRQ 0 and counter 2's
 * gate and OUT on port 0x61 (system control port B, with the refresh toggle in bit 4).
 *
 * The counters are not ticked. A counter remembers the input-clock pulse at which its count was
 * loaded; its value and OUT at any moment are computed from the pulse number, and the pulse
 * number from the instruction counter through `clock.ips` (TickRate below, exact integer
 * arithmetic, no BigInt). Counter 0 asks the clock for a timer at the instruction where its OUT
 * next rises, and pulses IRQ 0 there. Modes 0 (interrupt on terminal count), 2 (rate generator),
 * 3 (square wave) and 4 (software strobe) follow the datasheet; modes 1 and 5 (gate-triggered)
 * behave as 0 and 4 because a PC ties counter 0's gate high. Counter latch, read-back (count and
 * status), lobyte/hibyte/both access and BCD counting are supported.
 */
import type { Clock, IrqLine, PortDevice, TimerOwner } from './device.js';

/** The PC's 8254 input clock (14.31818 MHz / 12), in Hz. */
export const PIT_HZ = 1193182;

export const PIT_PORT_BASE = 0x40;
export const PIT_PORT_CONTROL = 0x43;
export const PORT_SYSTEM_CONTROL_B = 0x61;

let mulDivRem = 0;

/** floor(x / q) with the float quotient corrected, so that 0 <= x - a*q < q (x, q integers). */
function divFloor(x: number, q: number): number {
  let a = Math.floor(x / q);
  const r = x - a * q;
  if (r < 0) a--;
  else if (r >= q) a++;
  return a;
}

/**
 * floor(x * p / q) for non-negative integers, exact while the result stays below 2^53 and p, q
 * below 2^32; the remainder is left in `mulDivRem`. x*p itself may exceed 2^53: x is split into
 * a multiple of q and a remainder, and the remainder's product into 16-bit halves of p.
 */
function mulDiv(x: number, p: number, q: number): number {
  const a = divFloor(x, q);
  const r = x - a * q;
  const pH = Math.floor(p / 65536);
  const pL = p - pH * 65536;
  const t = r * pH;
  const tq = divFloor(t, q);
  const u = (t - tq * q) * 65536 + r * pL;
  const uq = divFloor(u, q);
  mulDivRem = u - uq * q;
  return a * p + tq * 65536 + uq;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Converts between the instruction counter and the pulse count of a clock of `hz` Hz.
 * Pulse k happens at the first instruction count i with i * hz / ips >= k. Shared by the PIT,
 * the local APIC timer and the RTC.
 */
export class TickRate {
  private p = 1;
  private q = 1;
  private ips = -1;

  constructor(
    private readonly clock: Clock,
    private hz: number,
  ) {}

  setHz(hz: number): void {
    this.hz = hz;
    this.ips = -1;
  }

  private sync(): void {
    const ips = Math.max(1, Math.round(this.clock.ips));
    if (ips === this.ips) return;
    this.ips = ips;
    const g = gcd(this.hz, ips);
    this.p = this.hz / g;
    this.q = ips / g;
  }

  /** Pulses completed by instruction count `instr`: floor(instr * hz / ips). */
  ticksAt(instr: number): number {
    this.sync();
    return mulDiv(instr, this.p, this.q);
  }

  /** The first instruction count at which pulse `ticks` has happened: ceil(ticks * ips / hz). */
  instrAt(ticks: number): number {
    this.sync();
    const f = mulDiv(ticks, this.q, this.p);
    return mulDivRem > 0 ? f + 1 : f;
  }

  /** Pulses completed now. */
  now(): number {
    return this.ticksAt(this.clock.now());
  }
}

// Access modes (control word bits 5-4).
const RW_LATCH = 0;
const RW_LO = 1;
const RW_HI = 2;
const RW_LOHI = 3;

class Counter {
  mode = 0;
  access = RW_LOHI;
  bcd = false;
  /** The programmed count in binary (0 written means 65536, or 10000 in BCD). */
  reload = 0x10000;
  /** The value counting starts from at `loadPulse` (differs from reload after a gate pause). */
  start = 0x10000;
  /** The pulse at which the count is (was) loaded into the counting element. */
  loadPulse = 0;
  counting = false;
  /** The load at `loadPulse` is a reload ending a period (a count rewritten in mode 2 or 3)... */
  reloadAtLoad = false;
  /** ... and until then the counter runs the period that began at prevLoadPulse with prevReload. */
  prevLoadPulse = 0;
  prevReload = 0x10000;
  gate = true;
  /** Value frozen while the gate is low. */
  frozen = 0;
  writeLow = 0;
  writeHigh = false;
  readHigh = false;
  latched = false;
  latchValue = 0;
  statusLatched = false;
  statusValue = 0;

  modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  periodic(): boolean {
    return (this.mode & 3) === 2 || (this.mode & 3) === 3;
  }

  /** Counting-element value after `pulses` pulses have happened (binary, 0..modulus-1). */
  value(pulses: number): number {
    const m = this.modulus();
    if (!this.counting || !this.gate) return this.frozen % m;
    if (pulses < this.loadPulse) {
      // before the load: the period still running, or the count about to load on the next pulse
      if (this.reloadAtLoad) return this.periodicValue(pulses - this.prevLoadPulse, this.prevReload) % m;
      return this.start % m;
    }
    const k = pulses - this.loadPulse;
    if (this.periodic()) return this.periodicValue(k, this.reload) % m;
    // modes 0, 1, 4, 5: count down from the start value, wrapping after zero
    return (((this.start - k) % m) + m) % m;
  }

  /** Modes 2 and 3: the value k pulses into a run of period n. */
  private periodicValue(k: number, n: number): number {
    const ph = k % n;
    if ((this.mode & 3) === 2) return n - ph; // rate generator: N, N-1, ..., 1, reload
    // square wave: decrements by two; an odd count loads N-1 (datasheet, mode 3)
    const high = (n + 1) >> 1;
    const j = ph < high ? ph : ph - high;
    return Math.max((n & ~1) - 2 * j, 0);
  }

  /** Modes 2 and 3: OUT k pulses into a run of period n. */
  private periodicOut(k: number, n: number): boolean {
    const ph = k % n;
    return (this.mode & 3) === 2 ? ph !== n - 1 : ph < (n + 1) >> 1;
  }

  /** The OUT pin after `pulses` pulses. */
  out(pulses: number): boolean {
    const mode = this.mode;
    if (!this.counting) return mode !== 0;
    if (pulses < this.loadPulse) {
      if (this.reloadAtLoad) return this.periodicOut(pulses - this.prevLoadPulse, this.prevReload);
      return mode !== 0;
    }
    if (!this.gate) return mode !== 0 || this.frozen === 0;
    const k = pulses - this.loadPulse;
    switch (mode) {
      case 0:
      case 1:
        return k >= this.start;
      case 4:
      case 5:
        return k !== this.start;
      default:
        return this.periodicOut(k, this.reload);
    }
  }

  /** The pulse of the first rising OUT edge after pulse `after`, or -1 if none will come. */
  nextRise(after: number): number {
    if (!this.counting || !this.gate) return -1;
    const k = Math.max(after - this.loadPulse, 0);
    switch (this.mode) {
      case 0:
      case 1:
        return k < this.start ? this.loadPulse + this.start : -1;
      case 4:
      case 5:
        return k < this.start + 1 ? this.loadPulse + this.start + 1 : -1;
      default: {
        // modes 2 and 3 rise as each period ends, at loadPulse + m*N for m >= 1
        if (after < this.loadPulse && this.reloadAtLoad) return this.loadPulse;
        const n = this.reload;
        return this.loadPulse + (Math.floor(k / n) + 1) * n;
      }
    }
  }

  status(pulses: number): number {
    const nullCount = !this.counting || pulses < this.loadPulse;
    return (
      (this.out(pulses) ? 0x80 : 0) |
      (nullCount ? 0x40 : 0) |
      (this.access << 4) |
      (this.mode << 1) |
      (this.bcd ? 1 : 0)
    );
  }
}

const toBcd = (v: number): number =>
  (v % 10) | (Math.floor(v / 10) % 10 << 4) | (Math.floor(v / 100) % 10 << 8) | (Math.floor(v / 1000) % 10 << 12);
const fromBcd = (v: number): number =>
  (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;

/**
 * Register on the port bus at 0x40 (4 ports) and, if wanted, 0x61 (1 port). Power-on state: no
 * counter counting (a BIOS would program counter 0 for 18.2 Hz; the machine may do the same by
 * writing 0x34, 0x00, 0x00 to ports 0x43, 0x40, 0x40).
 */
export class Pit8254 implements PortDevice, TimerOwner {
  readonly counters = [new Counter(), new Counter(), new Counter()];
  /** Instruction counts <-> input-clock pulses. */
  readonly rate: TickRate;
  /** Port 0x61 bits 0 (counter 2 gate) and 1 (speaker data enable). */
  private portB = 0;
  /** Rising edges of counter 0's OUT delivered to IRQ 0, for --stats. */
  irqCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly irq0: IrqLine,
  ) {
    this.rate = new TickRate(clock, PIT_HZ);
    this.counters[2].gate = false;
  }

  portRead(port: number, _size: number): number {
    const pulses = this.rate.now();
    if (port === PORT_SYSTEM_CONTROL_B) {
      // bit 4: refresh request toggle, every 15.08 us (18 pulses); bit 5: counter 2 OUT
      const refresh = Math.floor(pulses / 18) & 1;
      return this.portB | (refresh << 4) | (this.counters[2].out(pulses) ? 0x20 : 0);
    }
    if (port === PIT_PORT_CONTROL) return 0xff; // the control register is write-only
    const c = this.counters[port - PIT_PORT_BASE];
    if (c === undefined) return 0xff;
    if (c.statusLatched) {
      c.statusLatched = false;
      return c.statusValue;
    }
    let v: number;
    if (c.latched) v = c.latchValue;
    else v = c.bcd ? toBcd(c.value(pulses)) : c.value(pulses);
    let byte: number;
    if (c.access === RW_LO) byte = v & 0xff;
    else if (c.access === RW_HI) byte = (v >> 8) & 0xff;
    else {
      byte = c.readHigh ? (v >> 8) & 0xff : v & 0xff;
      c.readHigh = !c.readHigh;
      if (c.readHigh) return byte; // a latch holds until both bytes are read
    }
    c.latched = false;
    return byte;
  }

  portWrite(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    if (port === PORT_SYSTEM_CONTROL_B) return this.writePortB(v);
    if (port === PIT_PORT_CONTROL) return this.writeControl(v);
    const idx = port - PIT_PORT_BASE;
    const c = this.counters[idx];
    if (c === undefined) return;
    let count: number;
    if (c.access === RW_LO) count = v;
    else if (c.access === RW_HI) count = v << 8;
    else if (!c.writeHigh) {
      c.writeLow = v;
      c.writeHigh = true;
      if (c.mode === 0) this.stopMode0(idx); // datasheet: the first byte stops mode 0
      return;
    } else {
      c.writeHigh = false;
      count = c.writeLow | (v << 8);
    }
    this.loadCount(idx, count);
  }

  private stopMode0(idx: number): void {
    const c = this.counters[idx];
    c.frozen = c.value(this.rate.now());
    c.counting = false;
    if (idx !== 0) return;
    this.clock.cancel(this);
    this.irq0.lower();
  }

  private loadCount(idx: number, raw: number): void {
    const c = this.counters[idx];
    let n = c.bcd ? fromBcd(raw) : raw;
    if (n === 0) n = c.modulus();
    const pulses = this.rate.now();
    if (c.counting && c.periodic()) {
      // Modes 2 and 3: a new count takes effect when the current period ends. (A second rewrite
      // before then only replaces the count waiting to load.)
      if (!(c.reloadAtLoad && pulses < c.loadPulse)) {
        const end = c.nextRise(pulses);
        c.prevLoadPulse = c.loadPulse;
        c.prevReload = c.reload;
        c.loadPulse = end;
        c.reloadAtLoad = true;
      }
      c.reload = n;
      c.start = n;
    } else {
      c.reloadAtLoad = false;
      c.reload = n;
      c.start = n;
      c.loadPulse = pulses + 1; // the next input pulse loads the counting element
      c.counting = true;
      c.frozen = n;
      if (idx === 0) {
        if (c.mode === 0 || c.mode === 1) this.irq0.lower();
        else this.irq0.raise();
      }
    }
    if (idx === 0) this.arm(pulses);
  }

  private writeControl(v: number): void {
    const sel = v >> 6;
    const pulses = this.rate.now();
    if (sel === 3) {
      // read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status, bits 3-1 pick counters
      for (let i = 0; i < 3; i++) {
        if ((v & (2 << i)) === 0) continue;
        const c = this.counters[i];
        if ((v & 0x10) === 0 && !c.statusLatched) {
          c.statusLatched = true;
          c.statusValue = c.status(pulses);
        }
        if ((v & 0x20) === 0) this.latch(c, pulses);
      }
      return;
    }
    const c = this.counters[sel];
    const rw = (v >> 4) & 3;
    if (rw === RW_LATCH) {
      this.latch(c, pulses);
      return;
    }
    // A control word resets the counter: it waits for a count, OUT low in mode 0, else high.
    c.access = rw;
    c.mode = (v >> 1) & 7;
    if (c.mode > 5) c.mode -= 4; // 110 and 111 are modes 2 and 3
    c.bcd = (v & 1) !== 0;
    c.counting = false;
    c.frozen = 0;
    c.writeHigh = false;
    c.readHigh = false;
    c.latched = false;
    c.statusLatched = false;
    if (sel === 0) {
      this.clock.cancel(this);
      if (c.mode === 0) this.irq0.lower();
      else this.irq0.raise();
    }
  }

  private latch(c: Counter, pulses: number): void {
    if (c.latched) return; // a second latch before the read is ignored
    c.latched = true;
    c.readHigh = false;
    c.latchValue = c.bcd ? toBcd(c.value(pulses)) : c.value(pulses);
  }

  private writePortB(v: number): void {
    const c = this.counters[2];
    const gate = (v & 1) !== 0;
    this.portB = v & 3;
    if (gate === c.gate) return;
    const pulses = this.rate.now();
    if (!gate) {
      c.frozen = c.value(pulses);
      c.gate = false;
      return;
    }
    c.gate = true;
    if (!c.counting) return;
    // Gate rising: modes 1, 2, 3 and 5 (re)start from the reload value; 0 and 4 resume.
    const m = c.mode;
    c.start = m === 0 || m === 4 ? c.frozen || c.modulus() : c.reload;
    c.loadPulse = pulses + 1;
    c.reloadAtLoad = false;
  }

  /** Schedules the next rising edge of counter 0's OUT. */
  private arm(pulses: number): void {
    const next = this.counters[0].nextRise(pulses);
    if (next < 0) this.clock.cancel(this);
    else this.clock.schedule(this, this.rate.instrAt(next));
  }

  onTimer(now: number): void {
    const pulses = this.rate.ticksAt(now);
    const c = this.counters[0];
    if (!c.counting) return;
    // OUT rises: an edge on IRQ 0 (the PIC latches it); periodic modes re-arm for the next one.
    this.irq0.lower();
    this.irq0.raise();
    this.irqCount++;
    if (c.periodic()) this.arm(pulses);
  }
}
