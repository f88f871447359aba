/**
 * The 8254 against its datasheet, with time in instructions. Pulse k of the 1,193,182 Hz input
 * clock happens at instruction ceil(k * ips / 1193182); a count written when p pulses have
 * happened is loaded by pulse p + 1 ("the count is loaded on the next CLK pulse") and then:
 *   mode 0: OUT low, rises when the count reaches 0, N pulses after the load;
 *   mode 2: OUT rises again each time the counter reloads, every N pulses after the load;
 *   mode 3: OUT high for ceil(N/2) pulses and low for floor(N/2), period N.
 * With ips = 11,931,820 one pulse is exactly 10 instructions, which makes hand derivations short;
 * the BigInt oracle checks the general case.
 */
import { describe, expect, it } from 'vitest';
import { PIT_HZ, Pit8254, TickRate } from '../../src/devices/pit8254.js';
import { FakeClock, FakeIrq } from './fake-clock.js';

const TEN = PIT_HZ * 10; // ips: 10 instructions per pulse

function setup(ips: number): { clock: FakeClock; irq: FakeIrq; pit: Pit8254 } {
  const clock = new FakeClock(ips);
  const irq = new FakeIrq(clock);
  return { clock, irq, pit: new Pit8254(clock, irq) };
}

/** Counter latch then two reads (lobyte, hibyte). */
function readCount(pit: Pit8254, ch: number): number {
  pit.portWrite(0x43, 1, ch << 6);
  const lo = pit.portRead(0x40 + ch, 1);
  return lo | (pit.portRead(0x40 + ch, 1) << 8);
}

function writeCount(pit: Pit8254, ch: number, n: number): void {
  pit.portWrite(0x40 + ch, 1, n & 0xff);
  pit.portWrite(0x40 + ch, 1, (n >> 8) & 0xff);
}

describe('TickRate', () => {
  it('agrees with exact BigInt floor/ceil for many instruction counts and rates', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (const ips of [1, 1000, 100_000_000, 123_456_789, 3_000_000_000]) {
      for (const hz of [PIT_HZ, 1_000_000_000, 32768]) {
        const clock = new FakeClock(ips);
        const r = new TickRate(clock, hz);
        for (let i = 0; i < 200; i++) {
          const instr = (rnd() * 2 ** 21 + rnd()) % 2 ** 50; // up to ~1e15 instructions
          const ticks = BigInt(instr) * BigInt(hz) / BigInt(ips);
          if (ticks >= 2n ** 53n) continue;
          expect(r.ticksAt(instr)).toBe(Number(ticks));
          const k = Number(ticks);
          const ceil = (BigInt(k) * BigInt(ips) + BigInt(hz) - 1n) / BigInt(hz);
          expect(r.instrAt(k)).toBe(Number(ceil));
        }
      }
    }
  });
});

describe('8254 PIT', () => {
  it('mode 2: IRQ 0 every N pulses, in instructions for the given ips', () => {
    const { clock, irq, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x34); // counter 0, lobyte/hibyte, mode 2, binary
    expect(irq.riseTimes).toEqual([0]); // datasheet: OUT goes high after the mode 2 control word
    writeCount(pit, 0, 1000); // at t=0: 0 pulses done, load on pulse 1
    clock.advanceTo(50_000);
    // rises at pulses 1 + 1000m = instructions 10 * (1 + 1000m)
    expect(irq.riseTimes).toEqual([0, 10_010, 20_010, 30_010, 40_010]);
    // the count between: at t=25_000, 2500 pulses, k = 2499 since the load, 1000 - 499 = 501
    clock.advanceTo(25_000 + 25_000);
    expect(readCount(pit, 0)).toBe(1000 - ((5000 - 1) % 1000));
  });

  it('mode 2 at 100 MIPS with the 100 Hz divisor 11932 matches the exact formula', () => {
    const ips = 100_000_000;
    const { clock, irq, pit } = setup(ips);
    clock.t = 777; // floor(777 * 1193182 / 1e8) = 9 pulses done: load on pulse 10
    pit.portWrite(0x43, 1, 0x34);
    writeCount(pit, 0, 11932);
    clock.advanceTo(10 * ips + 1); // ten guest seconds
    const want: number[] = [777];
    for (let m = 1; ; m++) {
      const k = 10n + BigInt(m) * 11932n;
      const at = Number((k * BigInt(ips) + BigInt(PIT_HZ) - 1n) / BigInt(PIT_HZ));
      if (at > 10 * ips + 1) break;
      want.push(at);
    }
    expect(want.length).toBe(1 + 999); // 1193182 / 11932 = 99.998 Hz: 999 periods in 10 s
    expect(irq.riseTimes).toEqual(want);
  });

  it('mode 0: one interrupt N+1 pulses after the count is written, then the counter wraps', () => {
    const { clock, irq, pit } = setup(TEN);
    clock.t = 5; // 0 pulses done
    pit.portWrite(0x43, 1, 0x30); // counter 0, lo/hi, mode 0
    writeCount(pit, 0, 100);
    expect(irq.level).toBe(false); // OUT low after the count is written
    expect(clock.deadline(pit)).toBe(1010); // pulse 1 + 100 = 101 at 10 * 101
    clock.advanceTo(1009);
    expect(irq.rises).toBe(0);
    clock.advanceTo(1010);
    expect(irq.riseTimes).toEqual([1010]);
    expect(clock.deadline(pit)).toBeUndefined(); // one-shot
    clock.advanceTo(5000);
    expect(irq.rises).toBe(1);
    expect(irq.level).toBe(true);
    // at 5000: 500 pulses, k = 499 since the load: 100 - 499 wraps to 65536 - 399
    expect(readCount(pit, 0)).toBe(65536 - 399);
  });

  it('mode 0 reads the count going down from N', () => {
    const { clock, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x30);
    writeCount(pit, 0, 100);
    clock.advanceTo(505); // 50 pulses; k = 49 -> 51
    expect(readCount(pit, 0)).toBe(51);
  });

  it('mode 3: square wave, OUT high half the period, period N; odd counts', () => {
    const { clock, irq, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x36); // counter 0, lo/hi, mode 3
    writeCount(pit, 0, 1000);
    const status = (): number => {
      pit.portWrite(0x43, 1, 0xe2); // read-back: status only, counter 0
      return pit.portRead(0x40, 1);
    };
    clock.advanceTo(10 * (1 + 499)); // k = 499: still in the high half
    expect(status()).toBe(0x80 | 0x30 | (3 << 1));
    clock.advanceTo(10 * (1 + 500)); // k = 500: low half
    expect(status()).toBe(0x30 | (3 << 1));
    // counts by two: k = 10 -> 980 (high half), k = 510 -> 980 (low half restarts from N)
    clock.advanceTo(10 * (1 + 510));
    expect(readCount(pit, 0)).toBe(980);
    clock.advanceTo(10 * (1 + 3000) + 5);
    expect(irq.riseTimes).toEqual([0, 10_010, 20_010, 30_010]);
    // odd N = 5: N-1 loaded, OUT high for 3 pulses (4, 2, 0), low for 2 (4, 2)
    pit.portWrite(0x43, 1, 0x36);
    const t0 = clock.t; // 3001 pulses done -> load on pulse 3002
    writeCount(pit, 0, 5);
    const seen: number[] = [];
    const outs: boolean[] = [];
    for (let k = 0; k < 6; k++) {
      clock.advanceTo(Math.max(t0, 10 * (3002 + k)));
      seen.push(readCount(pit, 0));
      outs.push((status() & 0x80) !== 0);
    }
    expect(seen).toEqual([4, 2, 0, 4, 2, 4]);
    expect(outs).toEqual([true, true, true, false, false, true]);
  });

  it('latches a count until both bytes are read; a second latch is ignored', () => {
    const { clock, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x34);
    writeCount(pit, 0, 50000);
    clock.advanceTo(10 * 101); // k = 100 -> 49900
    pit.portWrite(0x43, 1, 0x00);
    clock.advanceTo(10 * 201);
    pit.portWrite(0x43, 1, 0x00); // ignored: the first latch is unread
    expect(pit.portRead(0x40, 1)).toBe(49900 & 0xff);
    clock.advanceTo(10 * 301);
    expect(pit.portRead(0x40, 1)).toBe(49900 >> 8);
    expect(readCount(pit, 0)).toBe(49700); // a fresh latch: k = 300
  });

  it('read-back latches status then count; lobyte-only and BCD access', () => {
    const { clock, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x72); // counter 1, lo/hi, mode 1 (status shows it), binary
    expect(pit.portRead(0x41, 1)).toBeTypeOf('number');
    pit.portWrite(0x43, 1, 0x51); // counter 1, lobyte only, mode 0, BCD
    pit.portWrite(0x41, 1, 0x99); // 99 decimal
    clock.advanceTo(10 * 1 + 10 * 9); // k = 9 -> 90 -> BCD 0x90
    pit.portWrite(0x43, 1, 0xc4); // read-back count and status of counter 1
    // status: OUT 0 (counting in mode 0), null count 0, RW = 01, mode 0, BCD 1
    expect(pit.portRead(0x41, 1)).toBe(0x11);
    expect(pit.portRead(0x41, 1)).toBe(0x90);
    clock.advanceTo(10 * 1 + 10 * 99); // k = 99 -> 0, OUT high
    pit.portWrite(0x43, 1, 0xe4);
    expect(pit.portRead(0x41, 1)).toBe(0x80 | 0x11);
    // null count: set between writing a count and the next pulse
    pit.portWrite(0x41, 1, 0x10);
    pit.portWrite(0x43, 1, 0xe4);
    expect(pit.portRead(0x41, 1) & 0x40).toBe(0x40);
  });

  it('a count of 0 means 65536', () => {
    const { clock, irq, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x34);
    writeCount(pit, 0, 0);
    clock.advanceTo(10 * (1 + 2 * 65536));
    expect(irq.riseTimes).toEqual([0, 10 * (1 + 65536), 10 * (1 + 2 * 65536)]);
  });

  it('mode 2: a new count takes effect when the current period ends', () => {
    const { clock, irq, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0x34);
    writeCount(pit, 0, 1000); // rises at pulses 1001, 2001, ...
    clock.advanceTo(10 * 1500);
    writeCount(pit, 0, 100); // current period ends at 2001, then every 100
    clock.advanceTo(10 * 1600);
    // still the old period: k = 1599 since the load at pulse 1, 1000 - 599 = 401
    expect(readCount(pit, 0)).toBe(401);
    clock.advanceTo(10 * 2051); // 50 pulses into the new count
    expect(readCount(pit, 0)).toBe(50);
    clock.advanceTo(10 * 2201);
    expect(irq.riseTimes).toEqual([0, 10 * 1001, 10 * 2001, 10 * 2101, 10 * 2201]);
    // two rewrites in one period: the last one is what loads when the period ends
    writeCount(pit, 0, 7);
    writeCount(pit, 0, 300);
    clock.advanceTo(10 * 2901);
    expect(irq.riseTimes.slice(5)).toEqual([10 * 2301, 10 * 2601, 10 * 2901]);
  });

  it('counter 2 runs only with its gate (port 0x61 bit 0) and shows OUT in bit 5', () => {
    const { clock, pit } = setup(TEN);
    pit.portWrite(0x43, 1, 0xb0); // counter 2, lo/hi, mode 0
    writeCount(pit, 2, 100);
    clock.advanceTo(10 * 500);
    expect(pit.portRead(0x61, 1) & 0x20).toBe(0); // gate low: not counting
    pit.portWrite(0x61, 1, 0x01); // gate high at 500 pulses: counting from 501
    clock.advanceTo(10 * 600);
    expect(pit.portRead(0x61, 1) & 0x20).toBe(0); // k = 99
    expect(pit.portRead(0x61, 1) & 0x03).toBe(0x01);
    clock.advanceTo(10 * 601);
    expect(pit.portRead(0x61, 1) & 0x20).toBe(0x20); // k = 100: terminal count
  });

  it('toggles the refresh bit of port 0x61 every 18 pulses', () => {
    const { clock, pit } = setup(TEN);
    const bits: number[] = [];
    for (let p = 0; p < 72; p += 9) {
      clock.advanceTo(10 * p);
      bits.push((pit.portRead(0x61, 1) >> 4) & 1);
    }
    expect(bits).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
  });
});
