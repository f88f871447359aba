/**
 * A start-up warm-up for the hot loop (hot.ts). TurboFan compiles `runHot` with the type feedback
 * it has seen; each kind reached for the first time afterwards deoptimises the whole loop and it is
 * compiled again (about eleven cycles on bench64, worth most of a second of CPU in a short run).
 * So, once per process, a private machine (its own memory, never the guest's) runs a loop that
 * uses every hot kind and the branches inside them, before any guest code runs.
 *
 * The program (64-bit, assembled with nasm from hot-warm.asm next to this file; its first page is
 * embedded here): ALU register/immediate/memory forms of every operation, MOVs, loads/stores of 8/32/64
 * bits, LEA (also RIP-relative), IMUL, shifts by immediates, INC/DEC, SETcc, CMOVcc, PUSH/POP,
 * CALL/RET in the page and into the next page, and Jcc on every condition, 3,000 times round.
 */
import {
  ATTR_L, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, MODE_LONG64, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_MODE,
  OFF_RFLAGS, OFF_RIP, RAM_BASE, SEG_ATTR, SEG_LIMIT, StateViews, WASM_PAGE, gprOffset, segOffset,
} from '../cpu/state.js';
import { PhysicalMemory } from '../mmu/physmem.js';
import { Mmu } from '../mmu/mmu.js';
import { PortBus } from '../mmu/ports.js';
import { SystemContext } from '../system/context.js';

const PROGRAM =
  'b9b80b000089c84889cb01d809d825ff7f000029d831c239d885d84801d84809d84821d84829d84831c24839d84885d883c005482da086010083f8014883f8ff81e2f00f0000f7c2100000004189d04989c1bf3930000048bf896745230100000048c74608fbffffffc7461007000000c6460309891c1648895c56088b1c16488b5c5608885e058a46050fb646050fb6c3486346104863c38d449608488d44d6f8488d055dffffff034610480346083b5e1031461048014608395e10488546088346100348836e0803837e1003807e0309804603013846033046038b059b0000000fafc30faf461069c3e80300006bc3fdc1e003c1e802d1f848c1e02848c1e80348c1f82348c1f80248c1e305ffc0ffc848ffc048ffcb39d80f92c20f9cc20f90c20f94c20f42c30f4fc350535b58e847000000e8c70e00004839d870007100720073007400750076007700780079007a007b007c007d007e007f0085c074003c0372006683f8037c0001d87200ffc90f858ffeffffe9860e0000c32a000000';

const RAM = 1 << 20;
const CODE = 0x8000;
const DATA = 0x10000;
const STACK = 0x20000;

/** Runs the warm-up program on a machine of its own, through `make` (a new Interpreter); returns its final RIP. */
export function warmHotLoop(make: (ctx: SystemContext) => { run(stopAt: number): number }): number {
  const memory = new WebAssembly.Memory({ initial: (RAM_BASE + RAM) / WASM_PAGE, maximum: (RAM_BASE + RAM) / WASM_PAGE });
  const v = new StateViews(memory);
  const phys = new PhysicalMemory(v, RAM);
  const ctx = new SystemContext(v, phys, new Mmu(v, phys), new PortBus());
  // identity map of the first 2 MiB, 4-level paging, 64-bit mode at CPL 0
  const w64 = (pa: number, lo: number): void => {
    phys.write32(pa, lo);
    phys.write32(pa + 4, 0);
  };
  w64(0x1000, 0x2000 | 3);
  w64(0x2000, 0x3000 | 3);
  w64(0x3000, 0x4000 | 3);
  for (let i = 0; i < 512; i++) w64(0x4000 + 8 * i, (i * 4096) | 3);
  v.set64(OFF_CR0, CR0_PE | CR0_PG | 0x10, 0);
  v.set64(OFF_CR3, 0x1000, 0);
  v.set64(OFF_CR4, CR4_PAE, 0);
  v.set64(OFF_EFER, EFER_LME | EFER_LMA, 0);
  v.u32[OFF_MODE >> 2] = MODE_LONG64;
  for (let s = 0; s < 6; s++) {
    v.u32[(segOffset(s) + SEG_LIMIT) >> 2] = 0xffffffff;
    v.u32[(segOffset(s) + SEG_ATTR) >> 2] = s === 1 ? 0x9b | ATTR_L : 0x93;
  }
  const code = Uint8Array.from(PROGRAM.match(/../g) ?? [], (h) => parseInt(h, 16));
  phys.writeBytes(CODE, code);
  phys.writeBytes(CODE + 4096, Uint8Array.of(0xc3, 0xf4)); // far_fn: ret; far_end: hlt
  v.set64(gprOffset(6), DATA, 0);
  v.set64(gprOffset(4), STACK, 0);
  v.set64(OFF_RIP, CODE, 0);
  v.set64(OFF_RFLAGS, 2, 0);
  make(ctx).run(1_000_000); // 345,003 instructions up to the HLT after far_fn
  return v.getNum(OFF_RIP);
}
