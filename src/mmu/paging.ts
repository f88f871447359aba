/**
 * The page walker: translates one linear address through the guest's own page tables in guest
 * physical memory, for the three paging modes (SDM Vol. 3 ch. 4): 32-bit paging (4 KiB pages and,
 * with CR4.PSE, 4 MiB pages with PSE-36 high address bits), PAE paging (2 MiB pages, NX), and
 * 4-level paging in long mode (2 MiB and 1 GiB pages, NX).
 *
 * It checks present and reserved bits level by level (the first not-present entry ends the walk;
 * a reserved bit gives RSVD|P), sets the accessed bit of each non-leaf entry as it uses it (as
 * QEMU does; hardware may too), then combines U/S, R/W and XD across levels and applies CR0.WP,
 * EFER.NXE and CR4.SMEP. Only when the access is allowed does it set the leaf's accessed bit (and
 * dirty bit on a write). Entries are read as two 32-bit halves and written back through
 * PhysicalMemory, so a store into a page table that is also a code page is seen by the translator.
 *
 * PAE PDPTEs are read from memory on every walk, not cached at CR3 load as hardware does: a guest
 * that edits its PDPTEs without reloading CR3 sees the edit earlier than on hardware, and PDPTE
 * reserved bits give #PF(RSVD) at the access rather than #GP at MOV CR3 (`checkPdptes` lets the
 * system layer raise that #GP). SMAP and protection keys are not implemented.
 *
 * The walker does not allocate: results are left in fields (`pa`, `perm`) and the return value is
 * 0 or a #PF fault value carrying the exact error code.
 */
import { faultWithCode, PF_I, PF_P, PF_RSVD, PF_U, PF_W, VEC_GP, VEC_PF } from '../cpu/fault.js';
import { CR0_WP, CR4_PGE, CR4_PSE, CR4_SMEP, EFER_NXE } from '../cpu/state.js';
import type { PhysicalMemory } from './physmem.js';
import { PERM_GLOBAL, PERM_LARGE, PERM_R, PERM_W, PERM_X } from './tlb.js';

/** MAXPHYADDR this CPU reports (CPUID 0x80000008 EAX[7:0] should say the same). */
export const PHYS_ADDR_BITS = 40;

const TWO32 = 4294967296;

// entry bits (low half)
const E_P = 1;
const E_RW = 2;
const E_US = 4;
const E_A = 0x20;
const E_D = 0x40;
const E_PS = 0x80;
const E_G = 0x100;
// high half
const E_XD_HI = 0x80000000;
/** Physical address bits 39:32 in the high half of an entry (MAXPHYADDR 40). */
const ADDR_HI_MASK = (1 << (PHYS_ADDR_BITS - 32)) - 1;
/** Bits 51:MAXPHYADDR of an entry, in its high half: reserved in 4-level paging. */
const RSVD_HI_51 = 0x000fffff & ~ADDR_HI_MASK;
/** Bits 62:MAXPHYADDR, reserved in PAE paging's PDEs and PTEs. */
const RSVD_HI_62 = 0x7fffffff & ~ADDR_HI_MASK;
/** PAE PDPTE: bits 2:1 and 8:5 in the low half; 63:MAXPHYADDR in the high half. */
const RSVD_PDPTE_LO = 0x1e6;
const RSVD_PDPTE_HI = 0xffffffff & ~ADDR_HI_MASK;
/** Large-page low-half reserved bits: 2 MiB bits 20:13, 1 GiB bits 29:13, 4 MiB bit 21. */
const RSVD_2M_LO = 0x001fe000;
const RSVD_1G_LO = 0x3fffe000;
const RSVD_4M_LO = 0x00200000 | ((0xff << (PHYS_ADDR_BITS - 32 + 13)) & 0x001fe000);

export const WALK_READ = 0;
export const WALK_WRITE = 1;
export const WALK_FETCH = 2;

export class PageWalker {
  /** After a successful walk: physical address of the 4 KiB frame holding the linear address. */
  pa = 0;
  /** After a successful walk: PERM_* rights at the walked privilege (W only if now dirty). */
  perm = 0;
  /** Walks done (statistics). */
  walks = 0;

  constructor(private readonly phys: PhysicalMemory) {}

  // Per-walk accumulators (fields, so the level helpers need no allocation).
  private allUser = true;
  private allWrite = true;
  private noExec = false;
  private rsvdHi = 0;

  /** Reads the 64-bit entry at `ea`; low half returned, high half in `ehi`. */
  private ehi = 0;
  private entry64(ea: number): number {
    this.ehi = this.phys.read32(ea + 4) | 0;
    return this.phys.read32(ea) | 0;
  }

  /** Sets bits in an entry's low half if they are not all set yet (accessed, dirty). */
  private setBits(ea: number, elo: number, bits: number): void {
    if ((elo & bits) !== bits) this.phys.write32(ea, (elo | bits) >>> 0);
  }

  /**
   * Walks the tables for linear address (lo, hi) (hi = 0 outside long mode). `mode` 1 = 32-bit,
   * 2 = PAE, 3 = 4-level. Returns 0 (with pa/perm set) or a #PF fault value.
   */
  walk(
    mode: number, lo: number, hi: number, access: number, user: boolean,
    cr0: number, cr3lo: number, cr3hi: number, cr4: number, efer: number,
  ): number {
    this.walks++;
    const nxe = mode !== 1 && (efer & EFER_NXE) !== 0;
    const smep = (cr4 & CR4_SMEP) !== 0;
    const isWrite = access === WALK_WRITE;
    const isFetch = access === WALK_FETCH;
    let err = (isWrite ? PF_W : 0) | (user ? PF_U : 0);
    if (isFetch && (smep || nxe)) err |= PF_I;
    this.allUser = true;
    this.allWrite = true;
    this.noExec = false;

    let ea = 0; // address of the leaf entry
    let elo = 0; // its low half
    let frame = 0; // physical address of the 4 KiB frame
    let large = false;

    if (mode === 1) {
      // 32-bit paging: 4-byte entries, no NX, no reserved bits except in 4 MiB PDEs.
      const pdea = ((cr3lo & 0xfffff000) >>> 0) + (lo >>> 22) * 4;
      const pde = this.phys.read32(pdea) | 0;
      if ((pde & E_P) === 0) return faultWithCode(VEC_PF, err);
      if ((pde & E_PS) !== 0 && (cr4 & CR4_PSE) !== 0) {
        if ((pde & RSVD_4M_LO) !== 0) return faultWithCode(VEC_PF, err | PF_P | PF_RSVD);
        this.rights(pde);
        ea = pdea;
        elo = pde;
        frame = ((pde >>> 13) & ADDR_HI_MASK) * TWO32 + ((pde & 0xffc00000) >>> 0) + (lo & 0x3ff000);
        large = true;
      } else {
        this.setBits(pdea, pde, E_A);
        this.rights(pde);
        ea = ((pde & 0xfffff000) >>> 0) + ((lo >>> 12) & 0x3ff) * 4;
        elo = this.phys.read32(ea) | 0;
        if ((elo & E_P) === 0) return faultWithCode(VEC_PF, err);
        this.rights(elo);
        frame = (elo & 0xfffff000) >>> 0;
      }
    } else {
      let table: number;
      let level: number; // shift of the level about to be read: 39, 30, 21, 12
      if (mode === 3) {
        this.rsvdHi = RSVD_HI_51 | (nxe ? 0 : E_XD_HI);
        table = (cr3hi & ADDR_HI_MASK) * TWO32 + ((cr3lo & 0xfffff000) >>> 0);
        level = 39;
      } else {
        // PAE: the PDPTE selects the page directory; it has no rights bits and no accessed bit.
        this.rsvdHi = RSVD_HI_62 | (nxe ? 0 : E_XD_HI);
        const pdptea = ((cr3lo & 0xffffffe0) >>> 0) + (lo >>> 30) * 8;
        const p = this.entry64(pdptea);
        if ((p & E_P) === 0) return faultWithCode(VEC_PF, err);
        if ((p & RSVD_PDPTE_LO) !== 0 || (this.ehi & RSVD_PDPTE_HI) !== 0) {
          return faultWithCode(VEC_PF, err | PF_P | PF_RSVD);
        }
        table = (this.ehi & ADDR_HI_MASK) * TWO32 + ((p & 0xfffff000) >>> 0);
        level = 21;
      }
      for (;;) {
        const index =
          level === 39 ? (hi >>> 7) & 511
          : level === 30 ? ((lo >>> 30) | (hi << 2)) & 511
          : level === 21 ? (lo >>> 21) & 511
          : (lo >>> 12) & 511;
        ea = table + index * 8;
        elo = this.entry64(ea);
        const ehi = this.ehi;
        if ((elo & E_P) === 0) return faultWithCode(VEC_PF, err);
        let rsvdLo = 0;
        const ps = (elo & E_PS) !== 0;
        if (level === 39) rsvdLo = E_PS;
        else if (level === 30 && ps) rsvdLo = RSVD_1G_LO;
        else if (level === 21 && ps) rsvdLo = RSVD_2M_LO;
        if ((elo & rsvdLo) !== 0 || (ehi & this.rsvdHi) !== 0) {
          return faultWithCode(VEC_PF, err | PF_P | PF_RSVD);
        }
        this.rights(elo);
        if (nxe && (ehi & E_XD_HI) !== 0) this.noExec = true;
        const base = (ehi & ADDR_HI_MASK) * TWO32;
        if (level === 12) {
          frame = base + ((elo & 0xfffff000) >>> 0);
          break;
        }
        if (ps && level === 30) {
          frame = base + ((elo & 0xc0000000) >>> 0) + (lo & 0x3ffff000);
          large = true;
          break;
        }
        if (ps && level === 21) {
          frame = base + ((elo & 0xffe00000) >>> 0) + (lo & 0x1ff000);
          large = true;
          break;
        }
        this.setBits(ea, elo, E_A);
        table = base + ((elo & 0xfffff000) >>> 0);
        level -= 9;
      }
    }

    // Rights combined over every level, at the access's privilege.
    const userPage = this.allUser;
    const writable = user ? this.allWrite : this.allWrite || (cr0 & CR0_WP) === 0;
    const executable = !this.noExec && (user || !smep || !userPage);
    if (user && !userPage) return faultWithCode(VEC_PF, err | PF_P);
    if (isWrite && !writable) return faultWithCode(VEC_PF, err | PF_P);
    if (isFetch && !executable) return faultWithCode(VEC_PF, err | PF_P);

    this.setBits(ea, elo, isWrite ? E_A | E_D : E_A);
    const dirty = isWrite || (elo & E_D) !== 0;
    let perm = PERM_R;
    if (writable && dirty) perm |= PERM_W;
    if (executable) perm |= PERM_X;
    if ((elo & E_G) !== 0 && (cr4 & CR4_PGE) !== 0) perm |= PERM_GLOBAL;
    if (large) perm |= PERM_LARGE;
    this.perm = perm;
    this.pa = frame;
    return 0;
  }

  private rights(elo: number): void {
    if ((elo & E_US) === 0) this.allUser = false;
    if ((elo & E_RW) === 0) this.allWrite = false;
  }

  /**
   * For the system layer on MOV CR3 (and CR0/CR4 writes that enable PAE paging): 0, or #GP(0)
   * when a present PAE PDPTE has reserved bits set, as the hardware's PDPTE load reports.
   */
  checkPdptes(cr3lo: number): number {
    for (let i = 0; i < 4; i++) {
      const p = this.entry64(((cr3lo & 0xffffffe0) >>> 0) + i * 8);
      if ((p & E_P) !== 0 && ((p & RSVD_PDPTE_LO) !== 0 || (this.ehi & RSVD_PDPTE_HI) !== 0)) {
        return faultWithCode(VEC_GP, 0);
      }
    }
    return 0;
  }
}
