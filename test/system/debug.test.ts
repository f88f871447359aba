/**
 * DR0-DR3 breakpoints and alignment checking (#AC) through the engines' checked mode
 * (src/system/debug.ts, src/machine/checked.ts), in 64-bit mode without paging, on both engines.
 * Every exception vector has its own handler (HLT, then IRETQ, some with RF set in the frame), so
 * where the engine halts says which exception was taken; the frame, DR6 and memory say the rest.
 * The expected answers are worked out here from the SDM's rules (Vol. 3 17.2-17.3, 6.15), not
 * from the code under test. Instruction bytes are hand-encoded (each line says which).
 */
import { describe, expect, it } from 'vitest';
import {
  CR0_AM, FLAG_AC, FLAG_RF, OFF_CPL, OFF_CR0, OFF_DR0, OFF_HALTED, OFF_INSN_COUNT, OFF_RFLAGS, OFF_RIP, REG_RAX,
  REG_RBX, REG_RCX, REG_RDI, REG_RSI, REG_RSP, SEG_CS, SEG_DS, SEG_ES, SEG_SS, gprOffset,
} from '../../src/cpu/state.js';
import { VEC_AC, VEC_DB, VEC_GP } from '../../src/cpu/fault.js';
import { ENGINE_HALT, ENGINE_LIMIT, createEngine, type Engine } from '../../src/machine/engine.js';
import { IDT, TSS, gate32, long64, makeCtx, prot32, put, setIdt, setSeg } from './helpers.js';
import { updateMode } from '../../src/system/mode.js';

type Ctx = ReturnType<typeof makeCtx>;
const ENGINES = ['interp', 'dbt'] as const;

const CODE = 0x7000;
const DATA = 0x6000;
const COUNTER = 0x5000;
const HANDLERS = 0x4000; // vector v: HANDLERS + v * 32
const USER_STACK = 0x8000;
const KERNEL_STACK = 0x9000;
const HLT = 0xf4;
const IRETQ = [0x48, 0xcf];
const INC_COUNTER = [0xff, 0x04, 0x25, COUNTER & 0xff, COUNTER >>> 8, 0, 0]; // inc dword [abs32]
const SET_RF_ERR0 = [0x81, 0x4c, 0x24, 0x10, 0, 0, 1, 0]; // or dword [rsp+16], 0x10000 (RFLAGS slot)

interface Vm {
  ctx: Ctx;
  engine: Engine;
  /** Runs until a HLT (at most `limit` more instructions); returns the RUN_* code. */
  run(limit?: number): number;
  /** The vector whose handler halted, or -1 if the halt was elsewhere. */
  vector(): number;
  /** Qword `i` of the frame the CPU pushed (0 = error code or RIP). */
  frame(i: number): number;
  reg(r: number): number;
  /** Starts over (kernel mode) with new code and zeroed data: cheaper than a new machine. */
  load(code: number[]): void;
}

const dr6 = (ctx: Ctx): number => ctx.views.u32[(OFF_DR0 + 6 * 8) >>> 2];
const setDr = (ctx: Ctx, n: number, v: number): void => ctx.views.set64(OFF_DR0 + n * 8, v, 0);

/**
 * A 64-bit machine at CPL 0 (or 3) with `code` at CODE; the handlers HLT then (with `resume`) set
 * RF in the frame if asked, count themselves and IRETQ. The #DB handler's frame has no error code.
 */
function vm(engine: (typeof ENGINES)[number], code: number[], opts: { user?: boolean; resumeRf?: boolean } = {}): Vm {
  const ctx = makeCtx();
  long64(ctx);
  const v = ctx.views;
  setIdt(ctx, 256 * 16 - 1);
  for (let vec = 0; vec < 32; vec++) {
    const h = HANDLERS + vec * 32;
    put(ctx, IDT + vec * 16, [(h & 0xffff) | (0x28 << 16), (h & 0xffff0000) | 0x8e00, 0, 0]);
    const body = [HLT, ...INC_COUNTER, ...(opts.resumeRf && vec === VEC_DB ? SET_RF_ERR0 : []), ...IRETQ];
    ctx.phys.writeBytes(h, Uint8Array.from(body));
  }
  put(ctx, TSS + 4, [KERNEL_STACK, 0]); // RSP0
  if (opts.user) {
    setSeg(ctx, SEG_CS, 0x33, 0xa0fb, 0xffffffff, 0);
    for (const s of [SEG_SS, SEG_DS, SEG_ES]) setSeg(ctx, s, 0x23, 0xc0f3, 0xffffffff, 0);
    v.u32[OFF_CPL >>> 2] = 3;
    updateMode(ctx);
    v.set64(gprOffset(REG_RSP), USER_STACK, 0);
  } else v.set64(gprOffset(REG_RSP), KERNEL_STACK, 0);
  ctx.phys.writeBytes(CODE, Uint8Array.from(code));
  v.set64(OFF_RIP, CODE, 0);
  setDr(ctx, 6, 0xffff0ff0);
  setDr(ctx, 7, 0x400);
  const e = createEngine(ctx, { engine, dbt: { threshold: 2, tcSync: true } });
  let stackAtHalt = 0;
  return {
    ctx,
    engine: e,
    run(limit = 10_000) {
      v.u32[OFF_HALTED >>> 2] = 0;
      // the translator may return early (a background compile pending): go on until a stop
      const stopAt = v.getNum(OFF_INSN_COUNT) + limit;
      let r = e.run(stopAt);
      while (r === ENGINE_LIMIT && v.getNum(OFF_INSN_COUNT) < stopAt) r = e.run(stopAt);
      stackAtHalt = v.getNum(gprOffset(REG_RSP));
      return r;
    },
    vector() {
      const off = v.getNum(OFF_RIP) - 1 - HANDLERS;
      return off >= 0 && off < 32 * 32 && off % 32 === 0 ? off / 32 : -1;
    },
    frame: (i) => ctx.phys.read32(stackAtHalt + i * 8) + ctx.phys.read32(stackAtHalt + i * 8 + 4) * 2 ** 32,
    reg: (r) => v.getNum(gprOffset(r)),
    load(code) {
      ctx.phys.writeBytes(CODE, Uint8Array.from(code));
      ctx.phys.writeBytes(DATA, new Uint8Array(0x1000));
      e.invalidatePage(CODE >>> 12);
      v.set64(OFF_RIP, CODE, 0);
      v.set64(gprOffset(REG_RSP), KERNEL_STACK, 0);
      setDr(ctx, 6, 0xffff0ff0);
      setDr(ctx, 7, 0x400);
    },
  };
}

describe.each(ENGINES)('engine %s: instruction breakpoints', (engine) => {
  // nop; nop (DR0 here); nop; hlt
  const code = [0x90, 0x90, 0x90, HLT];

  it('an enabled execute breakpoint is a fault before the instruction (DR6.B0, RF pushed 0)', () => {
    const m = vm(engine, code);
    setDr(m.ctx, 0, CODE + 1);
    setDr(m.ctx, 7, 0x401); // L0, R/W0 = 00, LEN0 = 00
    expect(m.run()).toBe(ENGINE_HALT);
    expect(m.vector()).toBe(VEC_DB);
    expect(m.frame(0)).toBe(CODE + 1); // RIP: the instruction, not yet executed
    expect(m.frame(2) & FLAG_RF).toBe(0);
    expect(dr6(m.ctx) & 0xf).toBe(1);
  });

  it('a disabled one does nothing', () => {
    const m = vm(engine, code);
    setDr(m.ctx, 0, CODE + 1);
    setDr(m.ctx, 7, 0x400 | (1 << 2)); // only L1 enabled, an execute breakpoint elsewhere
    setDr(m.ctx, 1, 0x12345);
    expect(m.run()).toBe(ENGINE_HALT);
    expect(m.vector()).toBe(-1);
    expect(m.ctx.views.getNum(OFF_RIP)).toBe(CODE + 4);
  });

  it('RF set in the frame by the handler lets IRETQ resume past it once; without RF it fires again', () => {
    const m = vm(engine, code, { resumeRf: true });
    setDr(m.ctx, 0, CODE + 1);
    setDr(m.ctx, 7, 0x401);
    expect(m.run()).toBe(ENGINE_HALT); // in the #DB handler
    expect(m.vector()).toBe(VEC_DB);
    expect(m.run()).toBe(ENGINE_HALT); // handler sets RF, IRETQ, nop runs, hlt at the end
    expect(m.vector()).toBe(-1);
    expect(m.ctx.views.getNum(OFF_RIP)).toBe(CODE + 4);
    expect(m.ctx.phys.read32(COUNTER)).toBe(1);

    const n = vm(engine, code); // the handler does not set RF: the same breakpoint again
    setDr(n.ctx, 0, CODE + 1);
    setDr(n.ctx, 7, 0x401);
    n.run();
    n.run();
    expect(n.vector()).toBe(VEC_DB);
    expect(n.frame(0)).toBe(CODE + 1);
  });

  it('without breakpoints too, RF loaded by IRETQ lasts one instruction (seen in a #UD frame)', () => {
    // iretq to CODE+16: [nop;] ud2 (0F 0B). #UD pushes RFLAGS as it is: RF still 1 on the first
    // instruction after IRETQ, cleared once one instruction completed.
    for (const nop of [false, true]) {
      const m = vm(engine, [...IRETQ, ...new Array<number>(14).fill(0x90), ...(nop ? [0x90] : []), 0x0f, 0x0b]);
      const sp = KERNEL_STACK - 40;
      put(m.ctx, sp, [CODE + 16, 0, 0x28, 0, 0x10002, 0, KERNEL_STACK, 0, 0x10, 0]);
      m.ctx.views.set64(gprOffset(REG_RSP), sp, 0);
      m.run();
      expect(m.vector()).toBe(6);
      expect(m.frame(0)).toBe(CODE + 16 + (nop ? 1 : 0));
      expect(m.frame(2) & FLAG_RF, `nop first: ${nop}`).toBe(nop ? 0 : FLAG_RF);
    }
  });

  it('DR7.GD makes MOV DR a #DB fault with DR6.BD, and clears GD', () => {
    const m = vm(engine, [0x0f, 0x23, 0xc0, HLT]); // mov dr0, rax
    setDr(m.ctx, 7, 0x400 | (1 << 13));
    m.run();
    expect(m.vector()).toBe(VEC_DB);
    expect(m.frame(0)).toBe(CODE);
    expect(dr6(m.ctx) & (1 << 13)).not.toBe(0);
    expect(m.ctx.views.u32[(OFF_DR0 + 7 * 8) >>> 2] & (1 << 13)).toBe(0);
  });
});

/** mov [rbx], al / ax / eax / rax and mov al / ax / eax / rax, [rbx] (88/89/8A/8B 03, 66 and REX.W). */
const STORE: Record<number, number[]> = { 1: [0x88, 0x03], 2: [0x66, 0x89, 0x03], 4: [0x89, 0x03], 8: [0x48, 0x89, 0x03] };
const LOAD: Record<number, number[]> = { 1: [0x8a, 0x03], 2: [0x66, 0x8b, 0x03], 4: [0x8b, 0x03], 8: [0x48, 0x8b, 0x03] };
const LEN_FIELD: Record<number, number> = { 1: 0, 2: 1, 8: 2, 4: 3 };

describe.each(ENGINES)('engine %s: data breakpoints', (engine) => {
  // every access size against every breakpoint length, at offsets around the watched bytes
  it('write breakpoints of each length trap after a store that overlaps them, and only then', () => {
    const bp = DATA + 0x40;
    let traps = 0;
    const m = vm(engine, []);
    for (const len of [1, 2, 4, 8]) {
      for (const size of [1, 2, 4, 8]) {
        for (let off = -9; off <= 9; off++) {
          const insn = STORE[size];
          m.load([...insn, 0x90, HLT]);
          m.ctx.views.set64(gprOffset(REG_RBX), bp + off, 0);
          m.ctx.views.set64(gprOffset(REG_RAX), 0x11223344, 0x55667788);
          setDr(m.ctx, 1, bp + 1); // masked down to the length: the watch starts at bp (len 1: bp + 1)
          setDr(m.ctx, 7, 0x400 | (1 << 2) | ((LEN_FIELD[len] << 2 | 1) << 20)); // L1, R/W1 = 01
          m.run();
          const base = len === 1 ? bp + 1 : bp;
          const hit = bp + off < base + len && base < bp + off + size;
          if (hit) {
            traps++;
            expect(m.vector(), `len ${len} size ${size} off ${off}`).toBe(VEC_DB);
            expect(m.frame(0)).toBe(CODE + insn.length); // a trap: after the store
            expect(dr6(m.ctx) & 0xf).toBe(2);
            expect(m.ctx.phys.read8(bp + off)).toBe(0x44); // the store happened
          } else {
            expect(m.vector(), `len ${len} size ${size} off ${off}`).toBe(-1);
            expect(dr6(m.ctx) & 0xf).toBe(0);
          }
        }
      }
    }
    expect(traps).toBeGreaterThan(40);
  });

  it('a write breakpoint ignores reads; a read/write one catches them', () => {
    for (const rw of [1, 3]) {
      for (const size of [1, 2, 4, 8]) {
        const m = vm(engine, [...LOAD[size], HLT]);
        m.ctx.views.set64(gprOffset(REG_RBX), DATA + 4, 0);
        setDr(m.ctx, 2, DATA + 4);
        setDr(m.ctx, 7, 0x400 | (1 << 5) | ((3 << 2 | rw) << 24)); // G2, LEN2 = 4 bytes
        m.run();
        expect(m.vector(), `rw ${rw} size ${size}`).toBe(rw === 3 ? VEC_DB : -1);
        if (rw === 3) expect(dr6(m.ctx) & 0xf).toBe(4);
      }
    }
  });

  it('a breakpoint on a REP MOVSB destination traps after the iteration that wrote it, with RF pushed 1', () => {
    // rep movsb (F3 A4); hlt
    const m = vm(engine, [0xf3, 0xa4, HLT]);
    const src = DATA;
    const dst = DATA + 0x100;
    for (let i = 0; i < 16; i++) m.ctx.phys.write8(src + i, 0xa0 + i);
    const v = m.ctx.views;
    v.set64(gprOffset(REG_RSI), src, 0);
    v.set64(gprOffset(REG_RDI), dst, 0);
    v.set64(gprOffset(REG_RCX), 16, 0);
    setDr(m.ctx, 3, dst + 5);
    setDr(m.ctx, 7, 0x400 | (1 << 6) | (1 << 28)); // L3, R/W3 = 01, LEN3 = 1
    m.run();
    expect(m.vector()).toBe(VEC_DB);
    expect(m.frame(0)).toBe(CODE); // the REP is not finished: it is restarted
    expect(m.frame(2) & FLAG_RF).toBe(FLAG_RF);
    expect(dr6(m.ctx) & 0xf).toBe(8);
    expect(m.reg(REG_RCX)).toBe(10);
    expect(m.reg(REG_RDI)).toBe(dst + 6);
    expect(m.ctx.phys.read8(dst + 5)).toBe(0xa5);
    expect(m.ctx.phys.read8(dst + 6)).toBe(0);
    // resume: the rest is copied without another trap
    m.run();
    expect(m.vector()).toBe(-1);
    expect(m.reg(REG_RCX)).toBe(0);
    for (let i = 0; i < 16; i++) expect(m.ctx.phys.read8(dst + i)).toBe(0xa0 + i);
    expect(m.ctx.phys.read32(COUNTER)).toBe(1);
  });

  it('REPE CMPSB and REPNE SCASB still stop where the data says, one iteration per step', () => {
    // repe cmpsb (F3 A6); hlt — the buffers differ at index 5
    const m = vm(engine, []);
    for (const [code, name] of [[[0xf3, 0xa6, HLT], 'repe cmpsb'], [[0xf2, 0xae, HLT], 'repne scasb']] as const) {
      m.load([...code]);
      const v = m.ctx.views;
      for (let i = 0; i < 16; i++) {
        m.ctx.phys.write8(DATA + i, i);
        m.ctx.phys.write8(DATA + 0x100 + i, i === 5 ? 0x77 : i);
      }
      v.set64(gprOffset(REG_RSI), DATA, 0);
      v.set64(gprOffset(REG_RDI), DATA + 0x100, 0);
      v.set64(gprOffset(REG_RAX), 0x77, 0); // SCASB looks for AL = 0x77
      v.set64(gprOffset(REG_RCX), 16, 0);
      setDr(m.ctx, 0, DATA + 0x800); // an execute breakpoint nobody reaches: the checked mode is on
      setDr(m.ctx, 7, 0x401);
      const before = v.getNum(OFF_INSN_COUNT);
      m.run();
      expect(m.vector(), name).toBe(-1);
      expect(m.reg(REG_RCX), name).toBe(10);
      expect(m.reg(REG_RDI), name).toBe(DATA + 0x106);
      expect((v.u32[OFF_RFLAGS >>> 2] & 0x40) !== 0, name).toBe(name === 'repne scasb'); // ZF
      expect(v.getNum(OFF_INSN_COUNT) - before, name).toBe(6 + 1); // six iterations and the HLT
    }
  });

  it('single-step and a data breakpoint on the same instruction make one #DB with BS and Bn', () => {
    const m = vm(engine, [...STORE[4], 0x90, HLT]);
    m.ctx.views.set64(gprOffset(REG_RBX), DATA, 0);
    m.ctx.views.u32[OFF_RFLAGS >>> 2] |= 1 << 8; // TF
    setDr(m.ctx, 0, DATA);
    setDr(m.ctx, 7, 0x401 | (0xd << 16)); // L0, R/W0 = 01, LEN0 = 4
    m.run();
    expect(m.vector()).toBe(VEC_DB);
    expect(m.frame(0)).toBe(CODE + 2);
    expect(dr6(m.ctx) & 0x400f).toBe(0x4001);
    expect(m.ctx.phys.read32(COUNTER)).toBe(0);
  });
});

describe.each(ENGINES)('engine %s: alignment check', (engine) => {
  const setAm = (ctx: Ctx, am: boolean): void => {
    const v = ctx.views;
    v.u32[OFF_CR0 >>> 2] = am ? v.u32[OFF_CR0 >>> 2] | CR0_AM : v.u32[OFF_CR0 >>> 2] & ~CR0_AM;
  };
  const setAc = (ctx: Ctx, ac: boolean): void => {
    const v = ctx.views;
    v.u32[OFF_RFLAGS >>> 2] = ac ? v.u32[OFF_RFLAGS >>> 2] | FLAG_AC : v.u32[OFF_RFLAGS >>> 2] & ~FLAG_AC;
  };

  it('#AC(0) on a misaligned CPL-3 load or store of 2, 4 and 8 bytes, before anything is written', () => {
    for (const size of [2, 4, 8]) {
      for (let mis = 0; mis < 8; mis++) {
        for (const store of [false, true]) {
          const insn = store ? STORE[size] : LOAD[size];
          const m = vm(engine, [...insn, 0x90, 0xcd, 0x80], { user: true }); // ...; nop; int 0x80 (#GP: no DPL-3 gate)
          setAm(m.ctx, true);
          setAc(m.ctx, true);
          m.ctx.views.set64(gprOffset(REG_RBX), DATA + 0x20 + mis, 0);
          m.ctx.views.set64(gprOffset(REG_RAX), 0x11223344, 0x55667788);
          m.run();
          const misaligned = mis % size !== 0;
          const what = `size ${size} +${mis} ${store ? 'store' : 'load'}`;
          if (misaligned) {
            expect(m.vector(), what).toBe(VEC_AC);
            expect(m.frame(0), what).toBe(0); // error code 0
            expect(m.frame(1), what).toBe(CODE); // a fault: RIP at the access
            expect(m.ctx.phys.read8(DATA + 0x20 + mis), what).toBe(0);
          } else {
            expect(m.vector(), what).toBe(VEC_GP); // ran on to the INT 0x80
          }
        }
      }
    }
  });

  it('a PUSH at CPL 3 onto a misaligned stack is #AC', () => {
    const m = vm(engine, [0x50, 0xcd, 0x80], { user: true }); // push rax
    setAm(m.ctx, true);
    setAc(m.ctx, true);
    m.ctx.views.set64(gprOffset(REG_RSP), USER_STACK - 4, 0);
    m.run();
    expect(m.vector()).toBe(VEC_AC);
  });

  it('no #AC at CPL 0, or with CR0.AM = 0, or with AC = 0', () => {
    for (const [user, am, ac] of [[false, true, true], [true, false, true], [true, true, false]]) {
      const m = vm(engine, [...LOAD[4], 0x90, 0xcd, 0x80, HLT], { user });
      setAm(m.ctx, am);
      setAc(m.ctx, ac);
      m.ctx.views.set64(gprOffset(REG_RBX), DATA + 1, 0);
      m.run();
      // CPL 0: INT 0x80 has no gate but is allowed to run into #GP as well; no #AC either way
      expect(m.vector(), `user ${user} am ${am} ac ${ac}`).toBe(VEC_GP);
    }
  });

  it('POPF setting AC in hot user code turns the check on at the next instruction', () => {
    // mov ecx, 200; L: add eax, 1; dec ecx; jnz L; pushfq; or dword [rsp], 0x40000; popfq;
    // mov eax, [rbx]; int 0x80
    const code = [
      0xb9, 200, 0, 0, 0, // mov ecx, 200
      0x83, 0xc0, 0x01, // add eax, 1
      0xff, 0xc9, // dec ecx
      0x75, 0xf9, // jnz -7
      0x9c, // pushfq
      0x81, 0x0c, 0x24, 0, 0, 4, 0, // or dword [rsp], 0x40000
      0x9d, // popfq
      0x8b, 0x03, // mov eax, [rbx]
      0xcd, 0x80,
    ];
    const m = vm(engine, code, { user: true });
    setAm(m.ctx, true);
    m.ctx.views.set64(gprOffset(REG_RBX), DATA + 2, 0);
    m.run();
    expect(m.vector()).toBe(VEC_AC);
    expect(m.frame(1)).toBe(CODE + 21);
    expect(m.reg(REG_RAX)).toBe(200);
  });
});

describe('both engines agree', () => {
  it('the same state and instruction count after the REP breakpoint and #AC programs', () => {
    const runs = ENGINES.map((engine) => {
      const m = vm(engine, [0xf3, 0xa5, 0x8b, 0x43, 0x01, 0xcd, 0x80], { user: true }); // rep movsd; mov eax, [rbx+1]; int 0x80
      const v = m.ctx.views;
      v.set64(gprOffset(REG_RSI), DATA, 0);
      v.set64(gprOffset(REG_RDI), DATA + 0x200, 0);
      v.set64(gprOffset(REG_RCX), 8, 0);
      v.set64(gprOffset(REG_RBX), DATA, 0);
      v.u32[OFF_CR0 >>> 2] |= CR0_AM;
      v.u32[OFF_RFLAGS >>> 2] |= FLAG_AC;
      setDr(m.ctx, 1, DATA + 0x20c);
      setDr(m.ctx, 7, 0x400 | (1 << 2) | (0xd << 20));
      const trace: string[] = [];
      for (let i = 0; i < 4; i++) {
        m.run();
        trace.push(`${m.vector()} ${v.getNum(OFF_INSN_COUNT)} ${m.reg(REG_RCX)} ${dr6(m.ctx).toString(16)}`);
      }
      return trace;
    });
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0][0].split(' ')[0]).toBe(String(VEC_DB));
  });
});

describe.each(ENGINES)('engine %s: 32-bit protected mode', (engine) => {
  // CS based at 0x1000: an execute breakpoint names the linear address (base + EIP), not EIP
  for (const [dr0, hits] of [[CODE + 1, true], [CODE + 1 - 0x1000, false]] as const) {
    it(`an execute breakpoint at ${dr0.toString(16)} ${hits ? 'hits' : 'does not hit'} the instruction at linear ${(CODE + 1).toString(16)}`, () => {
      const ctx = makeCtx();
      prot32(ctx);
      const v = ctx.views;
      setIdt(ctx, 256 * 8 - 1);
      const h = HANDLERS + VEC_DB * 32;
      const [lo, hi] = gate32(0x08, h, 0xe, 0);
      put(ctx, IDT + VEC_DB * 8, [lo, hi]);
      ctx.phys.write8(h, HLT);
      setSeg(ctx, SEG_CS, 0x08, 0xc09b, 0xffffffff - 0x1000, 0x1000);
      ctx.phys.writeBytes(CODE, Uint8Array.from([0x90, 0x90, 0x90, HLT]));
      v.set64(OFF_RIP, CODE - 0x1000, 0);
      v.set64(gprOffset(REG_RSP), KERNEL_STACK, 0);
      setDr(ctx, 0, dr0);
      setDr(ctx, 7, 0x401);
      const e = createEngine(ctx, { engine, dbt: { threshold: 2, tcSync: true } });
      let r = e.run(1000);
      while (r === ENGINE_LIMIT && v.getNum(OFF_INSN_COUNT) < 1000) r = e.run(1000);
      expect(r).toBe(ENGINE_HALT);
      if (hits) {
        expect(v.getNum(OFF_RIP)).toBe(h + 1); // in the #DB handler (CS base 0 there)
        expect(ctx.phys.read32(KERNEL_STACK - 12)).toBe(CODE + 1 - 0x1000); // pushed EIP
        expect(dr6(ctx) & 0xf).toBe(1);
      } else {
        expect(v.getNum(OFF_RIP)).toBe(CODE + 4 - 0x1000);
      }
    });
  }
});
