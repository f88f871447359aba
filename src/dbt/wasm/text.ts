/**
 * A small printer of wasm function bodies in text form, for `ringvm translate` and the golden
 * tests: it walks the instruction bytes our encoder (encoder.ts) writes, using the same opcode
 * table, and prints one instruction per line indented by block nesting. It knows only the
 * opcodes of `OP`; anything else prints as a raw byte.
 */
import { OP } from './encoder.js';

const NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(OP)) {
  // i32Load8u -> i32.load8_u, localGet -> local.get, brIf -> br_if
  let n = k.replace(/^(i32|i64|local)([A-Z])/, (_m, a: string, b: string) => `${a}.${b.toLowerCase()}`);
  n = n.replace(/([a-z0-9])([A-Z])/g, (_m, a: string, b: string) => `${a}_${b.toLowerCase()}`);
  n = n.replace(/(load|store|extend|shr)(\d*)_?([us])$/, '$1$2_$3').replace(/_i(32|64)_?([su])?$/, (_m, w: string, s?: string) => `_i${w}${s ? `_${s}` : ''}`);
  NAMES.set(v, n);
}
NAMES.set(0x69, 'i32.popcnt');

const TYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7c: 'f64', 0x40: '' };

/** Prints `len` bytes of function code starting at `buf[0]`. */
export function wasmText(buf: Uint8Array, len: number): string[] {
  let p = 0;
  const uleb = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = buf[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return r;
    }
  };
  const sleb = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[p++];
      r |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return (b & 0x40) !== 0 ? r - (1n << shift) : r;
    }
  };
  const out: string[] = [];
  let depth = 1;
  while (p < len) {
    const op = buf[p++];
    const name = NAMES.get(op) ?? `0x${op.toString(16)}`;
    if (op === OP.end || op === OP.else) depth--;
    let arg = '';
    if (op === OP.block || op === OP.loop || op === OP.if) arg = TYPES[buf[p++]] ?? '?';
    else if (op === OP.br || op === OP.brIf || op === OP.call || (op >= OP.localGet && op <= OP.localTee)) arg = String(uleb());
    else if (op === OP.brTable) {
      const n = uleb();
      const l: number[] = [];
      for (let i = 0; i <= n; i++) l.push(uleb());
      arg = l.join(' ');
    } else if (op >= OP.i32Load && op <= OP.i64Store32) {
      uleb();
      const off = uleb();
      arg = off !== 0 ? `offset=0x${off.toString(16)}` : '';
    } else if (op === OP.i32Const || op === OP.i64Const) {
      const v = sleb();
      arg = v < -9n || v > 9n ? `0x${(v < 0n ? BigInt.asUintN(op === OP.i32Const ? 32 : 64, v) : v).toString(16)}` : String(v);
    }
    out.push(`${'  '.repeat(Math.max(depth, 0))}${name}${arg !== '' ? ` ${arg}` : ''}`);
    if (op === OP.block || op === OP.loop || op === OP.if || op === OP.else) depth++;
  }
  return out;
}
