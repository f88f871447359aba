import { describe, expect, it } from 'vitest';
import { Bytes, I32, I64, ModuleBuilder, OP } from '../../src/dbt/wasm/encoder.js';

/** Decodes signed LEB128 with BigInt: an oracle independent of the encoder's int32 arithmetic. */
function readSleb(b: Uint8Array): bigint {
  let r = 0n;
  let shift = 0n;
  let i = 0;
  for (;;) {
    const byte = b[i++];
    r |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if ((byte & 0x80) === 0) {
      if ((byte & 0x40) !== 0) r -= 1n << shift;
      return r;
    }
  }
}

describe('wasm encoder', () => {
  it('LEB128 round-trips 64-bit values from two halves', () => {
    const vals = [0n, 1n, -1n, 63n, 64n, -64n, -65n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn,
      0x123456789abcdefn, -0x123456789abcdefn, (1n << 63n) - 1n, -(1n << 63n)];
    for (let i = 0; i < 200; i++) vals.push(BigInt.asIntN(64, BigInt(Math.floor(Math.random() * 2 ** 32)) << BigInt(i % 40)));
    for (const v of vals) {
      const u = BigInt.asUintN(64, v);
      const b = new Bytes().sleb64(Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0).result();
      expect(readSleb(b)).toBe(v);
    }
    for (const v of [0, 5, -5, 0x7fffffff, -0x80000000, 1234567, -1234567]) {
      expect(readSleb(new Bytes().sleb32(v).result())).toBe(BigInt(v));
    }
  });

  it('a module with memory, an import and locals validates and computes', () => {
    const m = new ModuleBuilder();
    m.importMemory(1, 1);
    const h = m.importFunc('h', [I32], [I32]);
    const { body } = m.func('f', [I32], [I64]);
    const t = body.local(I64);
    // t = (i64)(h(p) + 1) * 0x1_0000_0003; store the low word at 8; return t + mem32[8]
    body.get(0).call(h).i32(1).op(OP.i32Add).op(OP.i64ExtendI32U).i64(3, 1).op(OP.i64Mul).set(t);
    body.i32(8).get(t).mem(OP.i64Store, 3, 0);
    body.get(t).i32(0).mem(OP.i64Load32u, 2, 8).op(OP.i64Add);
    const bytes = m.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem, h: (x: number) => x * 2 } });
    const f = inst.exports.f as (x: number) => bigint;
    const t0 = (BigInt(7 * 2 + 1) * 0x100000003n) & 0xffffffffffffffffn;
    expect(f(7)).toBe(BigInt.asIntN(64, t0 + (t0 & 0xffffffffn)));
  });

  it('structured control flow: a loop summing 1..n', () => {
    const m = new ModuleBuilder();
    const { body } = m.func('sum', [I32], [I32]);
    const acc = body.local(I32);
    body.begin(OP.block, 0x40).begin(OP.loop, 0x40);
    body.get(0).op(OP.i32Eqz).br(OP.brIf, 1);
    body.get(acc).get(0).op(OP.i32Add).set(acc);
    body.get(0).i32(1).op(OP.i32Sub).set(0).br(OP.br, 0);
    body.end().end().get(acc);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), {});
    expect((inst.exports.sum as (n: number) => number)(100)).toBe(5050);
  });
});
