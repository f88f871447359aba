/**
 * The interpreter's decode cache (interpreter.ts keeps the map and fills it): `PageCache` holds the
 * decoded instructions of one 4 KiB guest-physical page, keyed by offset, tagged with the bitness
 * they were decoded for, with what the run loop and the hot loop (hot.ts) read per instruction
 * laid out in typed arrays. Creating one marks the page in the code-page bitmap, so any store to
 * the page calls PhysicalMemory.onCodeWrite, which the machine wires to `invalidatePage`.
 *
 * Instructions that cross a page boundary or live outside RAM are not cached: `decodeFetched`
 * decodes them each time from bytes fetched one by one through the MMU, into one scratch object.
 */
import { DEC_NEED_MORE, type Decoded } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import type { Mmu } from '../mmu/mmu.js';
import type { Handler } from './cpu.js';

/** Decoded instructions of one guest-physical page. */
export class PageCache {
  readonly insns: (Decoded | undefined)[] = new Array(4096);
  /** The handler of each cached instruction. */
  readonly fns: (Handler | undefined)[] = new Array(4096);
  /** Its FAST kind (fast.ts) or pre-resolved kind (prep.ts), 0 = call through `fns`. */
  readonly kinds = new Uint8Array(4096);
  /** The operand word of a prep.ts kind. */
  readonly words = new Int32Array(4096);
  /** Bitness (16/32/64) each slot was decoded for; 0 = empty. */
  readonly bits = new Uint8Array(4096);
  /** hot-prep.ts's kind of each slot (0: not run by the hot loop) and its packed operands. */
  readonly hk = new Uint8Array(4096);
  readonly ha = new Int32Array(4096);
  readonly himm = new Int32Array(4096);
  readonly hdisp = new Int32Array(4096);
}

/**
 * Decodes the instruction at linear address `lin` from up to 15 bytes fetched through the MMU (a
 * page-crossing instruction, or one outside RAM), into `scratch`. Fetching stops at the end of the
 * first page once the bytes there decode completely, so a fault on the next page is only taken
 * when the instruction really reaches it. Returns null when the fetch faulted before the bytes
 * formed an instruction (mmu.fault then holds the fault).
 */
export function decodeFetched(mmu: Mmu, lin: number, bits: number, user: boolean, buf: Uint8Array, scratch: Decoded): Decoded | null {
  let n = 0;
  let fetchFault = 0;
  for (; n < 15; n++) {
    const b = mmu.fetch8(lin + n, user);
    if (mmu.fault !== 0) {
      fetchFault = mmu.fault;
      mmu.fault = 0;
      break;
    }
    buf[n] = b;
    // No need to fetch further once the bytes decode completely.
    if (lin + n + 1 === (Math.floor(lin / 4096) + 1) * 4096) {
      decode(buf, 0, n + 1, bits, scratch);
      if (scratch.status !== DEC_NEED_MORE) return scratch;
    }
  }
  decode(buf, 0, n, bits, scratch);
  if (scratch.status === DEC_NEED_MORE && fetchFault !== 0) {
    mmu.fault = fetchFault;
    return null;
  }
  return scratch;
}
