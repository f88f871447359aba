/**
 * The PIT's computed counters against a second, independent model that steps the 8254 one input
 * pulse at a time, written straight from the datasheet's mode descriptions:
 *   mode 0: CE = N at the load pulse, then -1 per pulse (wrapping); OUT low, high once CE hits 0;
 *   mode 2: CE counts N..1; OUT low while CE = 1; the pulse after 1 reloads N and OUT goes high;
 *   mode 3: even N: CE loads N, -2 per pulse, at 0 OUT toggles and CE reloads N;
 *           odd N: CE loads N-1, -2 per pulse; while OUT is high it toggles one pulse after CE
 *           reached 0, while low it toggles as CE reaches 0; each toggle reloads N-1;
 *   mode 4: CE = N, -1 per pulse; OUT low for the one pulse at which CE reaches 0.
 * The count, OUT (read-back status bit 7) and the IRQ 0 rising edges must agree pulse by pulse.
 */
import { describe, expect, it } from 'vitest';
import { PIT_HZ, Pit8254 } from '../../src/devices/pit8254.js';
import { FakeClock, FakeIrq } from './fake-clock.js';

class Stepper {
  ce: number;
  out = true;
  private strobed = false;
  constructor(
    readonly mode: number,
    readonly n: number,
  ) {
    this.ce = mode === 3 && n % 2 === 1 ? n - 1 : n; // the load pulse
    if (mode === 0) this.out = false; // mode 0: OUT low from the count write
  }

  pulse(): void {
    const n = this.n;
    switch (this.mode) {
      case 0:
        this.ce = (this.ce - 1 + 0x10000) % 0x10000;
        if (this.ce === 0) this.out = true;
        break;
      case 2:
        if (this.ce === 1) {
          this.ce = n;
          this.out = true;
        } else {
          this.ce--;
          if (this.ce === 1) this.out = false;
        }
        break;
      case 3:
        if (n % 2 === 0) {
          this.ce -= 2;
          if (this.ce === 0) {
            this.out = !this.out;
            this.ce = n;
          }
        } else if (this.out) {
          if (this.ce === 0) {
            this.out = false;
            this.ce = n - 1;
          } else this.ce -= 2;
        } else {
          this.ce -= 2;
          if (this.ce === 0) {
            this.out = true;
            this.ce = n - 1;
          }
        }
        break;
      case 4:
        this.ce = (this.ce - 1 + 0x10000) % 0x10000;
        if (this.ce === 0 && !this.strobed) {
          this.out = false;
          this.strobed = true;
        } else this.out = true;
        break;
    }
  }
}

describe('8254 PIT vs a pulse-stepping model', () => {
  it('agrees on count, OUT and IRQ edges for modes 0, 2, 3, 4 and counts 2..41', () => {
    for (const mode of [0, 2, 3, 4]) {
      for (let n = 2; n <= 41; n++) {
        const clock = new FakeClock(PIT_HZ * 10); // 10 instructions per pulse
        const irq = new FakeIrq(clock);
        const pit = new Pit8254(clock, irq);
        pit.portWrite(0x43, 1, 0x30 | (mode << 1)); // counter 0, lo/hi, binary
        pit.portWrite(0x40, 1, n & 0xff);
        pit.portWrite(0x40, 1, n >> 8); // written at instruction 0: loaded by pulse 1
        const ref = new Stepper(mode, n);
        const refRises: number[] = [];
        const counts: number[] = [];
        const wantCounts: number[] = [];
        const outs: boolean[] = [];
        const wantOuts: boolean[] = [];
        for (let k = 0; k <= 3 * n + 2; k++) {
          if (k > 0) {
            const before = ref.out;
            ref.pulse();
            if (!before && ref.out) refRises.push(10 * (1 + k));
          }
          clock.advanceTo(10 * (1 + k));
          pit.portWrite(0x43, 1, 0xc2); // read-back count and status of counter 0
          outs.push((pit.portRead(0x40, 1) & 0x80) !== 0);
          counts.push(pit.portRead(0x40, 1) | (pit.portRead(0x40, 1) << 8));
          wantCounts.push(ref.ce);
          wantOuts.push(ref.out);
        }
        const label = `mode ${mode} N=${n}`;
        expect(counts, label).toEqual(wantCounts);
        expect(outs, label).toEqual(wantOuts);
        expect(irq.riseTimes.filter((t) => t > 0), label).toEqual(refRises);
      }
    }
  });
});
