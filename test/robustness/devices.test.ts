// The devices as a hostile guest drives them: random IN/OUT of every size to every port a PC
// machine claims (PIC pair, ELCR, PIT and port 0x61, CMOS, COM1, debug console; debug-exit only
// records a stop) and to random ports, random LAPIC MMIO reads and writes of every size and
// alignment, interleaved with virtual-time jumps, timer firing and interrupt acknowledges as the
// run loop does them. Nothing may throw, every read must be an integer of the access size, and
// time must stay finite: a device bug here would surface as a host exception in a guest run.
import { describe, expect, it } from 'vitest';
import { LAPIC_BASE } from '../../src/devices/lapic.js';
import { Machine } from '../../src/machine/machine.js';
import { Rng } from './harness.js';

const PORTS = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71,
  0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0xe9, 0xf4];
const SIZES = [1, 2, 4];

function interestingValue(rng: Rng): number {
  switch (rng.int(4)) {
    case 0: return rng.int(256);
    case 1: return rng.pick([0, 0xff, 0x11, 0x13, 0x34, 0x36, 0x30, 0xb0, 0x80, 0x8a, 0x0b, 0x0c, 0x20, 0x60, 0xc0]);
    case 2: return rng.next();
    default: return rng.int(0x10000);
  }
}

function fuzzDevices(seed: number, steps: number): void {
  const rng = new Rng(seed);
  let requested = '';
  const m = new Machine({
    ramSize: 1 << 20, serialSink: () => {}, debugconSink: () => {}, maxInsns: Infinity, ips: 1_000_000, rtcStart: 1_700_000_000,
    engine: { engine: 'interp' },
  });
  m.requestStop = (reason: string) => { requested = reason; };
  let now = 0;
  for (let i = 0; i < steps; i++) {
    const size = rng.pick(SIZES);
    const mask = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    switch (rng.int(6)) {
      case 0:
      case 1: {
        const port = rng.chance(0.9) ? rng.pick(PORTS) + (rng.chance(0.1) ? rng.int(4) : 0) : rng.int(0x10000);
        m.ports.write(port, size, interestingValue(rng));
        break;
      }
      case 2: {
        const port = rng.chance(0.9) ? rng.pick(PORTS) : rng.int(0x10000);
        const v = m.ports.read(port, size);
        if (!Number.isInteger(v) || v < 0 || v > mask) throw new Error(`in ${size} from 0x${port.toString(16)} gave ${v}`);
        break;
      }
      case 3: {
        // LAPIC registers: aligned dwords mostly, odd sizes and offsets sometimes.
        const off = rng.chance(0.8) ? rng.int(0x40) * 16 : rng.int(0x1000);
        const pa = LAPIC_BASE + off;
        if (rng.chance(0.5)) {
          const v = size === 1 ? m.phys.read8(pa) : size === 2 ? m.phys.read16(pa) : m.phys.read32(pa);
          if (!Number.isInteger(v) || v < 0 || v > mask) throw new Error(`LAPIC read${size * 8} at +0x${off.toString(16)} gave ${v}`);
        } else {
          const v = interestingValue(rng);
          if (size === 1) m.phys.write8(pa, v & 0xff);
          else if (size === 2) m.phys.write16(pa, v & 0xffff);
          else m.phys.write32(pa, v >>> 0);
        }
        break;
      }
      case 4: {
        // The run loop's side: jump to the next deadline (or a little), fire, take an interrupt.
        const next = m.clock.nextDeadline();
        now = next < Number.MAX_SAFE_INTEGER && next - now < 1e12 && rng.chance(0.5) ? Math.max(now, next) : now + rng.int(100_000);
        if (!Number.isSafeInteger(now)) throw new Error(`virtual time ${now} is not a safe integer`);
        m.clock.advanceTo(now);
        m.clock.fireDue();
        break;
      }
      default: {
        const intc = m.ctx.intc;
        if (intc !== null && intc.hasInterrupt()) {
          const vec = intc.acknowledge();
          if (!Number.isInteger(vec) || vec < 0 || vec > 255) throw new Error(`acknowledge gave vector ${vec}`);
        }
      }
    }
  }
  void requested;
}

describe('devices under random guest I/O', () => {
  it('200 sequences of 2,000 port, MMIO, time and interrupt steps never throw', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      try {
        fuzzDevices(seed, 2000);
      } catch (e) {
        failures.push(`seed ${seed}: ${e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
