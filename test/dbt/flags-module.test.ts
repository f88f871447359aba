/**
 * The wasm lazy-flags evaluators (src/dbt/flags-module.ts) against cpu/flags.ts, the interpreter's
 * versions: on random pending operations of every tag (realistic results and arbitrary ones, stale
 * upper words of 8/16/32-bit fields) both give the same CF, the same RFLAGS and the same value for
 * every condition code, and flags() leaves the same state behind.
 */
import { describe, expect, it } from 'vitest';
import { getFlags, lazyCF, testCond } from '../../src/cpu/flags.js';
import { OFF_LF_AUX, OFF_LF_DST, OFF_LF_OP, OFF_LF_RES, OFF_LF_SRC, OFF_RFLAGS } from '../../src/cpu/state.js';
import { instantiateFlags } from '../../src/dbt/flags-module.js';

/** xorshift32: reproducible cases. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('wasm lazy flags', () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const m = new Int32Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  const w = instantiateFlags(memory);
  const rnd = rng(12345);

  /** Writes a random pending operation (or none) and RFLAGS; returns a snapshot to restore. */
  function randomState(): Int32Array {
    const op = rnd() % 8; // 0: nothing pending
    const sz = rnd() & 3;
    const bits = 8 << sz;
    const mask = (1n << BigInt(bits)) - 1n;
    const big = (): bigint => ((BigInt(rnd()) << 32n) | BigInt(rnd())) & mask;
    // small values make carries, zeros and sign changes common
    // (and, for 64-bit fields, values whose low word is zero)
    const val = (): bigint => {
      const k = rnd() % 5;
      if (k === 0) return BigInt(rnd() % 3);
      if (k === 1) return mask - BigInt(rnd() % 3);
      if (k === 2) return (BigInt(rnd() % 3) << 32n) & mask;
      return big();
    };
    const d = val();
    const s = op === 6 || op === 7 ? 1n : val();
    const aux = rnd() % 3 === 0 ? rnd() : rnd() & 1;
    const cin = BigInt(aux & 1);
    let r: bigint;
    switch (op) {
      case 1: r = d + s; break;
      case 2: r = d + s + cin; break;
      case 3: r = d - s; break;
      case 4: r = d - s - cin; break;
      case 5: r = [d & s, d | s, d ^ s][rnd() % 3]; break;
      case 6: r = d + 1n; break;
      case 7: r = d - 1n; break;
      default: r = big();
    }
    if (rnd() % 8 === 0) r = rnd() % 2 === 0 ? big() : val(); // an arbitrary result: the evaluators must still agree
    r &= mask;
    const put = (off: number, v: bigint): void => {
      dv.setUint32(off, Number(v & 0xffffffffn), true);
      // 8/16/32-bit fields: the upper word is whatever an older operation left there
      dv.setUint32(off + 4, sz === 3 ? Number(v >> 32n) : rnd(), true);
    };
    put(OFF_LF_DST, d);
    put(OFF_LF_SRC, s);
    put(OFF_LF_RES, r);
    dv.setUint32(OFF_LF_AUX, aux, true);
    dv.setUint32(OFF_LF_OP, op === 0 ? 0 : (op << 2) | sz, true);
    dv.setUint32(OFF_RFLAGS, (rnd() & 0x3f7fd7) | 2, true);
    return m.slice(0, 64);
  }

  it('lazycf, flags and cond agree with cpu/flags.ts on 20,000 random pending operations', () => {
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const snap = randomState();
      expect(w.lazycf()).toBe(lazyCF(m));
      const jsFlags = getFlags(m) >>> 0;
      const jsAfter = m.slice(0, 64);
      m.set(snap);
      expect(w.flags() >>> 0).toBe(jsFlags);
      expect(m.slice(0, 64)).toEqual(jsAfter);
      for (let cc = 0; cc < 16; cc++) {
        m.set(snap);
        const js = testCond(m, cc) ? 1 : 0;
        m.set(snap);
        expect(w.cond(cc)).toBe(js);
      }
      checked++;
    }
    expect(checked).toBe(20_000);
  });
});
