/**
 * A start-up warm-up for the hot loop (hot.ts). TurboFan compiles `runHot` with the type feedback
 * it has seen; each kind reached for the first time afterwards deoptimises the whole loop and it is
 * compiled again (about eleven cycles on bench64, worth most of a second of CPU in a short run).
 * So, once per process, private machines (their own memory, never the guest's) run loops that
 * use every hot kind and the branches inside them, before any guest code runs.
 *
 * Three programs, assembled with nasm from the .asm files next to this one (their first pages are
 * embedded here), each on a machine of its own. Feedback needs each path run once, not often:
 * the first two go round 32 times (8,067 and 12,802 instructions, ~35 ms in all).
 * - hot-warm32.asm, flat 32-bit protected mode without paging: the loop's 32-bit addressing,
 *   stack and jump paths (without it bench32 and the 32-bit boot code of bench64 deoptimised it);
 * - hot-warm-edge.asm, 64-bit: the values a real guest has (low halves with bit 31 set, negative
 *   registers, sums that carry between the halves, shifts of 32 and more, products that overflow)
 *   and every Jcc after every kind of pending flags: a number feedback slot that has only seen
 *   small integers deoptimises ("lost precision", "overflow") on the first large one, and `cond`
 *   had seen only some condition/operation pairs;
 * - hot-warm.asm, 64-bit: ALU register/immediate/memory forms of every operation, MOVs,
 *   loads/stores of 8/32/64 bits, LEA (also RIP-relative), IMUL, shifts by immediates, INC/DEC,
 *   SETcc, CMOVcc, PUSH/POP, CALL/RET in the page and into the next page, and Jcc on every
 *   condition, 3,000 times round.
 */
import {
  ATTR_DB, ATTR_G, ATTR_L, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, MODE_LONG64, MODE_PROT32, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_MODE,
  OFF_RFLAGS, OFF_RIP, RAM_BASE, SEG_ATTR, SEG_LIMIT, StateViews, WASM_PAGE, gprOffset, segOffset,
} from '../cpu/state.js';
import { PhysicalMemory } from '../mmu/physmem.js';
import { Mmu } from '../mmu/mmu.js';
import { PortBus } from '../mmu/ports.js';
import { SystemContext } from '../system/context.js';

const PROGRAM =
  'b9b80b000089c84889cb01d809d825ff7f000029d831c239d885d84801d84809d84821d84829d84831c24839d84885d883c005482da086010083f8014883f8ff81e2f00f0000f7c2100000004189d04989c1bf3930000048bf896745230100000048c74608fbffffffc7461007000000c6460309891c1648895c56088b1c16488b5c5608885e058a46050fb646050fb6c3486346104863c38d449608488d44d6f8488d055dffffff034610480346083b5e1031461048014608395e10488546088346100348836e0803837e1003807e0309804603013846033046038b059b0000000fafc30faf461069c3e80300006bc3fdc1e003c1e802d1f848c1e02848c1e80348c1f82348c1f80248c1e305ffc0ffc848ffc048ffcb39d80f92c20f9cc20f90c20f94c20f42c30f4fc350535b58e847000000e8c70e00004839d870007100720073007400750076007700780079007a007b007c007d007e007f0085c074003c0372006683f8037c0001d87200ffc90f858ffeffffe9860e0000c32a000000';

/** hot-warm32.asm's first page (org 0x8000; far_fn and far_end open the next page, as above). */
const PROGRAM32 =
  'b92000000089c889cbc1e31b01d809d825ff7f000029d831c239d885d883c0052da086010083f80181e2f00f0000f7c210000000' +
  'bf39300000c7461007000000c6460309891c16895c56088b1c168b5c5608885e058a46050fb646050fb6c38d4496088d44d3f88d' +
  '845bf0ffff7f8d049d000000000346103b5e10314610015e10395e1085461083461003836e1003837e1003807e03098046030138' +
  '4603304603a1698200000fafc30faf461069c3e80300006bc3fd69c1b179379ec1e003c1e802d1f8c1e81f89d8c1f80540485053' +
  '5b58e891010000e8240f000039d870007100720073007400750076007700780079007a007b007c007d007e007f0085d870007100' +
  '720073007400750076007700780079007a007b007c007d007e007f0001d870007100720073007400750076007700780079007a00' +
  '7b007c007d007e007f0029d870007100720073007400750076007700780079007a007b007c007d007e007f0038d8700071007200' +
  '73007400750076007700780079007a007b007c007d007e007f0084d870007100720073007400750076007700780079007a007b00' +
  '7c007d007e007f006639d870007100720073007400750076007700780079007a007b007c007d007e007f00407000710072007300' +
  '7400750076007700780079007a007b007c007d007e007f00d1e070007100720073007400750076007700780079007a007b007c00' +
  '7d007e007f000fafc370007100720073007400750076007700780079007a007b007c007d007e007f0039c30f92c20f96c20f9cc2' +
  '0f9ec20f95c20f98c20f90c20f42d00f46d30f4cd00f4fd385c00f94c20f44d0490f85a2fdffffe9990d0000c32a000000';

/** hot-warm-edge.asm (one page, ends in HLT). */
const PROGRAM_EDGE =
  'b92000000089cbc1e31b4863db69c1b179379e89c20fafd348bf7798badcfeffffffba00000080488d5483f8488d94db00000040' +
  '488d1418488d1447488d14dd100000008d9443f0ffff7f8d141f4889da4801c24801fa4829da4829fa4809fa4821da4831fa4881' +
  'c20000009048897e084803560848295e0848015608895e100356102946104889da48c1ea234889da48c1ea2048c1e22048c1fa21' +
  '48d1e248d1ea48d1fa89dac1ea1f89dac1fa07d1e248c7c2ffffffff48ffc248ffcaffc2ffca53575a5ae8d102000039d8700071' +
  '00720073007400750076007700780079007a007b007c007d007e007f0085d870007100720073007400750076007700780079007a' +
  '007b007c007d007e007f0001d870007100720073007400750076007700780079007a007b007c007d007e007f0029d87000710072' +
  '0073007400750076007700780079007a007b007c007d007e007f004839d870007100720073007400750076007700780079007a00' +
  '7b007c007d007e007f004839fb70007100720073007400750076007700780079007a007b007c007d007e007f004885d870007100' +
  '720073007400750076007700780079007a007b007c007d007e007f004885db70007100720073007400750076007700780079007a' +
  '007b007c007d007e007f004801d870007100720073007400750076007700780079007a007b007c007d007e007f004829da700071' +
  '00720073007400750076007700780079007a007b007c007d007e007f0038d870007100720073007400750076007700780079007a' +
  '007b007c007d007e007f0084d870007100720073007400750076007700780079007a007b007c007d007e007f0000d87000710072' +
  '0073007400750076007700780079007a007b007c007d007e007f006639d870007100720073007400750076007700780079007a00' +
  '7b007c007d007e007f006685d870007100720073007400750076007700780079007a007b007c007d007e007f00ffc07000710072' +
  '0073007400750076007700780079007a007b007c007d007e007f0048ffc870007100720073007400750076007700780079007a00' +
  '7b007c007d007e007f00d1e070007100720073007400750076007700780079007a007b007c007d007e007f000fafc37000710072' +
  '0073007400750076007700780079007a007b007c007d007e007f0039c30f92c20f96c20f9cc20f9ec20f95c20f98c20f42d00f46' +
  'd30f4cd00f4ed30f48d00f45d34885c30f94c20f98c20f9ec20f44d00f4fd3ffc90f856afcfffff4c3';

const RAM = 1 << 20;
const CODE = 0x8000;
const DATA = 0x10000;
const STACK = 0x20000;

/**
 * Runs the warm-up programs, each on a machine of its own, through `make` (a new Interpreter
 * each); returns the final RIP of the last, hot-warm.asm.
 */
export function warmHotLoop(make: (ctx: SystemContext) => { run(stopAt: number): number }): number {
  let rip = 0;
  for (const p of WARM_PROGRAMS) rip = runProgram(make, p.hex, p.long, p.limit);
  return rip;
}

/**
 * The programs in the order they run, with their sources (test/interp/hotpath.test.ts assembles
 * each and compares) and instruction limits: 8,067, 12,802 and 345,003 instructions to their HLTs.
 * `paged`: the source's second page holds far_fn (RET) and far_end (HLT), which runProgram writes.
 */
export const WARM_PROGRAMS: readonly { source: string; hex: string; long: boolean; limit: number; paged: boolean }[] = [
  { source: 'hot-warm32.asm', hex: PROGRAM32, long: false, limit: 100_000, paged: true },
  { source: 'hot-warm-edge.asm', hex: PROGRAM_EDGE, long: true, limit: 100_000, paged: false },
  { source: 'hot-warm.asm', hex: PROGRAM, long: true, limit: 1_000_000, paged: true },
];

/** One program at CODE: 64-bit mode with an identity map of 2 MiB, or flat 32-bit protected mode without paging. */
function runProgram(make: (ctx: SystemContext) => { run(stopAt: number): number }, hex: string, long: boolean, limit: number): number {
  const memory = new WebAssembly.Memory({ initial: (RAM_BASE + RAM) / WASM_PAGE, maximum: (RAM_BASE + RAM) / WASM_PAGE });
  const v = new StateViews(memory);
  const phys = new PhysicalMemory(v, RAM);
  const ctx = new SystemContext(v, phys, new Mmu(v, phys), new PortBus());
  if (long) {
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
  } else {
    v.set64(OFF_CR0, CR0_PE | 0x10, 0);
    v.u32[OFF_MODE >> 2] = MODE_PROT32;
  }
  for (let s = 0; s < 6; s++) {
    v.u32[(segOffset(s) + SEG_LIMIT) >> 2] = 0xffffffff;
    const attr = s === 1 ? 0x9b | (long ? ATTR_L : ATTR_DB) : 0x93 | ATTR_DB;
    v.u32[(segOffset(s) + SEG_ATTR) >> 2] = attr | ATTR_G;
  }
  phys.writeBytes(CODE, Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)));
  phys.writeBytes(CODE + 4096, Uint8Array.of(0xc3, 0xf4)); // far_fn: ret; far_end: hlt
  v.set64(gprOffset(6), DATA, 0);
  v.set64(gprOffset(4), STACK, 0);
  v.set64(OFF_RIP, CODE, 0);
  v.set64(OFF_RFLAGS, 2, 0);
  make(ctx).run(limit);
  return v.getNum(OFF_RIP);
}
