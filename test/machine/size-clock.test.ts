import { describe, expect, it } from 'vitest';
import { OFF_EXIT_REQUEST, OFF_INSN_COUNT, OFF_NEXT_DEADLINE, RAM_BASE, StateViews } from '../../src/cpu/state.js';
import { VirtualClock } from '../../src/machine/clock.js';
import { parseMemSize } from '../../src/machine/size.js';

describe('parseMemSize', () => {
  it('accepts K/M/G suffixes and bare MiB like QEMU', () => {
    expect(parseMemSize('128M')).toBe(128 * 2 ** 20);
    expect(parseMemSize('1G')).toBe(2 ** 30);
    expect(parseMemSize('4096K')).toBe(4 * 2 ** 20);
    expect(parseMemSize('64')).toBe(64 * 2 ** 20);
    expect(parseMemSize('3G')).toBe(3 * 2 ** 30);
  });
  it('refuses sizes above 3G, tiny sizes and garbage with a reason', () => {
    expect(() => parseMemSize('4G')).toThrow(/above the 3G limit/);
    expect(() => parseMemSize('1M')).toThrow(/too small/);
    expect(() => parseMemSize('lots')).toThrow(/invalid memory size/);
  });
});

describe('VirtualClock', () => {
  it('fires timers in deadline order once the counter passes them and publishes the next deadline', () => {
    const views = new StateViews(new WebAssembly.Memory({ initial: RAM_BASE / 65536 + 1, maximum: RAM_BASE / 65536 + 1 }));
    const clock = new VirtualClock(views, 1000);
    const fired: string[] = [];
    const a = { onTimer: (n: number) => void fired.push(`a@${n}`) };
    const b = { onTimer: (n: number) => void fired.push(`b@${n}`) };
    clock.schedule(a, 500);
    clock.schedule(b, 200);
    expect(clock.nextDeadline()).toBe(200);
    expect(views.getNum(OFF_NEXT_DEADLINE)).toBe(200);
    views.setNum(OFF_INSN_COUNT, 199);
    clock.fireDue();
    expect(fired).toEqual([]);
    views.setNum(OFF_INSN_COUNT, 600);
    clock.fireDue();
    expect(fired).toEqual(['b@600', 'a@600']);
    expect(clock.hasTimers()).toBe(false);
  });

  it('asks the running engine to stop when a timer is armed earlier than the deadline it runs to', () => {
    const views = new StateViews(new WebAssembly.Memory({ initial: RAM_BASE / 65536 + 1, maximum: RAM_BASE / 65536 + 1 }));
    const clock = new VirtualClock(views, 1000);
    const exitRequest = (): number => views.u32[OFF_EXIT_REQUEST >>> 2];
    const t = { onTimer: () => undefined };
    const u = { onTimer: () => undefined };
    clock.schedule(t, 1000); // earlier than "never": a run to the old deadline must be cut short
    expect(exitRequest()).toBe(1);
    views.u32[OFF_EXIT_REQUEST >>> 2] = 0;
    clock.schedule(u, 5000); // later than 1000: the run already stops at 1000
    expect(exitRequest()).toBe(0);
    clock.schedule(u, 400); // re-armed earlier, as a guest reprogramming its timer
    expect(exitRequest()).toBe(1);
    views.u32[OFF_EXIT_REQUEST >>> 2] = 2; // another request bit (the checked mode's) is kept
    clock.schedule(t, 100);
    expect(exitRequest()).toBe(3);
  });
});
