/**
 * The translator's intermediate form (ARCHITECTURE.md §4, "front end"): a block is a flat list of
 * micro-ops in the spirit of the lecture notes (load a register into a temporary, ALU on
 * temporaries, store a temporary to a register, load/store memory, call a helper, exit). Four
 * 64-bit temporaries T0..T3 hold values zero-extended to the operation size. The front end
 * (frontend.ts) writes these, the back end (backend.ts) turns them into wasm; `irText` prints them
 * for `ringvm translate` and the golden tests.
 *
 * Ordering rule that keeps faults precise: inside one guest instruction every op that may fault
 * (LOAD, STORE, CANON) comes before every op with a visible effect (PUT, FLAGS), so a fault leaves
 * the registers and flags exactly as the interpreter would.
 *
 * Each op is one entry of `ops`: [kind, a, b, c, d, e]. Operands by kind:
 *   INSN   i, off, len           start of guest instruction i at byte offset off of the block
 *   GET    t, reg, size, high8   t = register (size 1/2/4/8; high8: AH..BH)
 *   PUT    reg, size, high8, t   register = t with the x86 merge rules (size 4 zero-extends)
 *   CONST  t, lo, hi             t = hi:lo
 *   ALU    alu, size, td, ta, tb td = ta op tb, masked to size (no flags)
 *   FLAGS  lfop, size, tdst, tsrc, tres   record the lazy flags of an operation (cpu/flags.ts)
 *   FLAGSD kind, size, ta, b, tres       flags of MUL/SHL/SHR/SAR written directly (FD_*; b a count
 *                                or, for FD_MUL and the variable shifts, a temporary)
 *   EA     t, base, index, scale, i      t = base + index << scale + disp(insn i), at its address size
 *   LOAD   t, ta, size, i, seg      t = memory[seg:ta] (may fault; 64-bit mode, flat segments)
 *   STORE  ta, tv, size, i, seg      memory[seg:ta] = tv (may fault)
 *   HELPER i                     run the interpreter's handler for instruction i
 *   EXITREL rel                  leave the block: RIP = entry RIP + rel
 *   EXITCC cc, relTaken, relNot  leave: RIP by condition cc
 *   EXITT t                      leave: RIP = t
 *   EXITHELPER                   leave: the last HELPER stored RIP
 *   CANON  t, i                  #GP(0) at instruction i unless t is canonical
 *   RIPREL t, rel                t = entry RIP + rel (the block's own address plus an offset)
 *   COND   t, cc                 t = condition cc of the current flags (0/1)
 *   CMOV   cc, td, ts            td = cc ? ts : td
 *   BSWAP  t, size               t = t with its 4 or 8 bytes reversed
 *   DIV    signed, size, i       T0 = quotient, T1 = remainder of T1:T0 (rDX:rAX at `size`, 4 or 8)
 *                                by T2; when the result needs the wide or faulting cases (#DE, a
 *                                dividend beyond 64 bits) the helper runs instruction i, which
 *                                writes rAX/rDX (T0/T1 are then reloaded) or faults
 *
 * Instruction numbers (`i`) are indexes into the block's instruction list; the back end maps them
 * to the global helper numbers. Conditions are evaluated by EXITCC itself.
 */

export const IR_INSN = 0;
export const IR_GET = 1;
export const IR_PUT = 2;
export const IR_CONST = 3;
export const IR_ALU = 4;
export const IR_FLAGS = 5;
export const IR_EA = 6;
export const IR_LOAD = 7;
export const IR_STORE = 8;
export const IR_COND = 9;
export const IR_HELPER = 10;
export const IR_EXITREL = 11;
export const IR_EXITCC = 12;
export const IR_EXITT = 13;
export const IR_EXITHELPER = 14;
export const IR_CANON = 15;
export const IR_RIPREL = 16;
export const IR_FLAGSD = 17;
export const IR_DIV = 18;
export const IR_CMOV = 19;
export const IR_BSWAP = 20;

export const IR_NAMES = [
  'insn', 'get', 'put', 'const', 'alu', 'flags', 'ea', 'load', 'store', 'cond', 'helper', 'exit_rel',
  'exit_cc', 'exit_t', 'exit_helper', 'canon', 'riprel', 'flagsd', 'div', 'cmov', 'bswap',
];

/**
 * Kinds of IR_FLAGSD (flags written directly, as the interpreter's setArith does: these operations
 * are not lazy there). FLAGSD kind, size, ta, b, tres: MUL: CF = OF = the signed product of ta and
 * temporary b does not fit the size; SHL/SHR/SAR: ta shifted by the constant count b (1..size*8-1).
 * SF, ZF, PF from tres, AF = 0.
 */
export const FD_MUL = 0;
export const FD_SHL = 1;
export const FD_SHR = 2;
export const FD_SAR = 3;
/** One-operand 8/16/32-bit MUL: ta = the full product; CF = OF = its high half is not 0; SF/ZF/PF of the low half. */
export const FD_MULU = 4;
/**
 * SHL/SHR/SAR by a variable count: b is the temporary holding the masked count (0..63); a zero
 * count leaves the flags as they were (the interpreter's rule), otherwise as FD_SHL/SHR/SAR.
 */
export const FD_SHLV = 5;
export const FD_SHRV = 6;
export const FD_SARV = 7;
/**
 * ROL/ROR by the count in temporary b (masked, 0..63; constant counts too): CF and OF of the
 * rotated result tres, the other arithmetic flags kept; nothing changes for a zero count.
 */
export const FD_ROLV = 8;
export const FD_RORV = 9;

/** ALU operations of IR_ALU. */
export const ALU_ADD = 0;
export const ALU_SUB = 1;
export const ALU_AND = 2;
export const ALU_OR = 3;
export const ALU_XOR = 4;
/** td = tb (a move through the ALU, masked to size). */
export const ALU_MOV = 5;
/** td = sign-extension of ta from 8/16/32 bits (size = source size) to 64 bits. */
export const ALU_SEXT = 6;
/** td = ta * tb (low half), ta << tb, ta >>> tb, ta >> tb (signed at the size); tb a count. */
export const ALU_MUL = 7;
export const ALU_SHL = 8;
export const ALU_SHR = 9;
export const ALU_SAR = 10;
/** td = ta rotated left / right by tb (any count: taken modulo the size's width). */
export const ALU_ROL = 11;
export const ALU_ROR = 12;
export const ALU_NAMES = ['add', 'sub', 'and', 'or', 'xor', 'mov', 'sext', 'mul', 'shl', 'shr', 'sar', 'rol', 'ror'];

export const T0 = 0;
export const T1 = 1;
export const T2 = 2;
export const T3 = 3;

const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const SEG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

export class IrBlock {
  readonly ops: number[][] = [];

  emit(kind: number, a = 0, b = 0, c = 0, d = 0, e = 0): void {
    this.ops.push([kind, a, b, c, d, e]);
  }
}

/** One line per micro-op, as `ringvm translate` shows them. */
export function irText(ir: IrBlock): string[] {
  const out: string[] = [];
  const t = (n: number): string => `T${n}`;
  const reg = (r: number, size: number, high: number): string =>
    high ? ['ah', 'ch', 'dh', 'bh'][r - 4] : `${REG64[r]}:${size * 8}`;
  for (const [k, a, b, c, d, e] of ir.ops) {
    switch (k) {
      case IR_INSN: out.push(`-- insn ${a} @+${b} (${c} bytes)`); break;
      case IR_GET: out.push(`  ${t(a)} = ${reg(b, c, d)}`); break;
      case IR_PUT: out.push(`  ${reg(a, b, c)} = ${t(d)}`); break;
      case IR_CONST: out.push(`  ${t(a)} = 0x${((b >>> 0) + (c >>> 0) * 4294967296).toString(16)}`); break;
      case IR_ALU: out.push(`  ${t(c)} = ${ALU_NAMES[a]}${b * 8}(${t(d)}, ${t(e)})`); break;
      case IR_FLAGS: out.push(`  flags = lazy(op ${a}, ${b * 8}, ${t(c)}, ${t(d)}, ${t(e)})`); break;
      case IR_EA: out.push(`  ${t(a)} = ea(${b >= 0 ? REG64[b] ?? 'rip' : '-'} + ${c >= 0 ? REG64[c] : '-'}<<${d} + disp of insn ${e})`); break;
      case IR_LOAD: out.push(`  ${t(a)} = load${c * 8}[${SEG[e]}:${t(b)}]`); break;
      case IR_STORE: out.push(`  store${c * 8}[${SEG[e]}:${t(a)}] = ${t(b)}`); break;
      case IR_COND: out.push(`  ${t(a)} = cond(${CC[b]})`); break;
      case IR_HELPER: out.push(`  call_helper(insn ${a})`); break;
      case IR_EXITREL: out.push(`  exit rip = entry + ${a}`); break;
      case IR_EXITCC: out.push(`  exit rip = ${CC[a]} ? entry + ${b} : entry + ${c}`); break;
      case IR_EXITT: out.push(`  exit rip = ${t(a)}`); break;
      case IR_EXITHELPER: out.push('  exit (rip from helper)'); break;
      case IR_FLAGSD: out.push(`  flags = ${['mul', 'shl', 'shr', 'sar', 'mulu', 'shl', 'shr', 'sar', 'rol', 'ror'][a]}${b * 8}(${t(c)}, ${a === FD_MUL || a >= FD_SHLV ? t(d) : d}, ${t(e)})`); break;
      case IR_CANON: out.push(`  check_canonical(${t(a)})`); break;
      case IR_RIPREL: out.push(`  ${t(a)} = entry + ${b}`); break;
      case IR_CMOV: out.push(`  ${t(b)} = ${CC[a]} ? ${t(c)} : ${t(b)}`); break;
      case IR_BSWAP: out.push(`  ${t(a)} = bswap${b * 8}(${t(a)})`); break;
      case IR_DIV: out.push(`  T0, T1 = ${a ? 'idiv' : 'div'}${b * 8}(T1:T0, T2) (else helper insn ${c})`); break;
      default: out.push(`  ?${k}`);
    }
  }
  return out;
}
