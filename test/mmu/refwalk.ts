/**
 * A reference page walker for differential tests of src/mmu: deliberately written another way
 * (BigInt entries, bit ranges named as in the SDM tables, one generic level loop with the level
 * descriptions as data) and sharing no code with the walker under test. It reads and writes a plain
 * byte array standing for guest RAM (outside RAM reads all ones, writes are dropped).
 */

export interface RefRegs {
  cr0: number;
  cr3: bigint;
  cr4: number;
  efer: number;
}

export type RefResult = { pa: bigint } | { err: number };

const M = 40; // MAXPHYADDR of the modelled CPU

/** Mask of bits hi..lo inclusive. */
const bits = (hi: number, lo: number): bigint => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
const bit = (e: bigint, n: number): boolean => ((e >> BigInt(n)) & 1n) === 1n;
const field = (v: bigint, hi: number, lo: number): bigint => (v & bits(hi, lo)) >> BigInt(lo);

export class RefMemory {
  constructor(
    readonly bytes: Uint8Array,
    readonly ramSize: number,
    readonly romStart = 0xc0000,
    readonly romEnd = 0x100000,
  ) {}
  read(pa: bigint, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const a = pa + BigInt(i);
      v = (v << 8n) | (a < BigInt(this.ramSize) ? BigInt(this.bytes[Number(a)]) : 0xffn);
    }
    return v;
  }
  write(pa: bigint, size: number, v: bigint): void {
    for (let i = 0; i < size; i++) {
      const a = Number(pa) + i;
      if (a < this.ramSize && (a < this.romStart || a >= this.romEnd)) this.bytes[a] = Number((v >> BigInt(8 * i)) & 0xffn);
    }
  }
}

interface Level {
  /** Lowest linear-address bit of this level's index, and the index width. */
  shift: number;
  width: number;
  /** Entry size in bytes. */
  size: number;
  /** May map a page directly (PS = 1). */
  large: boolean;
}

export function refTranslate(
  mem: RefMemory, r: RefRegs, lin: bigint, access: 'r' | 'w' | 'x', user: boolean,
): RefResult {
  const pg = (r.cr0 >>> 31) === 1;
  if (!pg) return { pa: lin & 0xffffffffn };
  const wp = bit(BigInt(r.cr0), 16);
  const pse = bit(BigInt(r.cr4), 4);
  const pae = bit(BigInt(r.cr4), 5);
  const pge = bit(BigInt(r.cr4), 7);
  const smep = bit(BigInt(r.cr4), 20);
  const lma = bit(BigInt(r.efer), 10);
  const nxe = pae && bit(BigInt(r.efer), 11);
  const a64 = lin & bits(63, 0);

  let errBase = 0;
  if (access === 'w') errBase |= 2;
  if (user) errBase |= 4;
  if (access === 'x' && (smep || nxe)) errBase |= 16;
  const notPresent = { err: errBase };
  const rsvd = { err: errBase | 1 | 8 };
  const prot = { err: errBase | 1 };

  let levels: Level[];
  let table: bigint;
  if (!pae) {
    levels = [
      { shift: 22, width: 10, size: 4, large: pse },
      { shift: 12, width: 10, size: 4, large: false },
    ];
    table = BigInt(r.cr3) & bits(31, 12);
  } else if (!lma) {
    const pdpte = mem.read(field(r.cr3, 31, 5) * 32n + field(a64, 31, 30) * 8n, 8);
    if (!bit(pdpte, 0)) return notPresent;
    if ((pdpte & (bits(63, M) | bits(8, 5) | bits(2, 1))) !== 0n) return rsvd;
    levels = [
      { shift: 21, width: 9, size: 8, large: true },
      { shift: 12, width: 9, size: 8, large: false },
    ];
    table = pdpte & bits(M - 1, 12);
  } else {
    levels = [
      { shift: 39, width: 9, size: 8, large: false },
      { shift: 30, width: 9, size: 8, large: true },
      { shift: 21, width: 9, size: 8, large: true },
      { shift: 12, width: 9, size: 8, large: false },
    ];
    table = r.cr3 & bits(M - 1, 12);
  }

  let allU = true;
  let allW = true;
  let xd = false;
  for (let i = 0; i < levels.length; i++) {
    const L = levels[i];
    const ea = table + field(a64, L.shift + L.width - 1, L.shift) * BigInt(L.size);
    const e = mem.read(ea, L.size);
    if (!bit(e, 0)) return notPresent;
    const isLeaf = i === levels.length - 1 || (L.large && bit(e, 7));
    if (L.size === 8) {
      let reserved = lma ? bits(51, M) : bits(62, M);
      if (!nxe) reserved |= bits(63, 63);
      if (lma && L.shift === 39) reserved |= bits(7, 7);
      if (isLeaf && L.shift === 30) reserved |= bits(29, 13);
      if (isLeaf && L.shift === 21) reserved |= bits(20, 13);
      if ((e & reserved) !== 0n) return rsvd;
    } else if (isLeaf && L.shift === 22) {
      // 4 MiB page: bits 20:13 hold physical bits 39:32 (M = 40), bit 21 is reserved
      if (bit(e, 21)) return rsvd;
    }
    allU &&= bit(e, 2);
    allW &&= bit(e, 1);
    if (nxe && bit(e, 63)) xd = true;
    if (!isLeaf) {
      mem.write(ea, L.size, e | 0x20n);
      table = e & (L.size === 8 ? bits(M - 1, 12) : bits(31, 12));
      continue;
    }
    // leaf: rights, then A/D, then the address
    if (user && !allU) return prot;
    if (access === 'w' && (user || wp) && !allW) return prot;
    if (access === 'x' && (xd || (!user && smep && allU))) return prot;
    mem.write(ea, L.size, e | 0x20n | (access === 'w' ? 0x40n : 0n));
    void pge;
    let base: bigint;
    if (L.size === 4 && L.shift === 22) base = (field(e, 20, 13) << 32n) | (e & bits(31, 22));
    else base = e & bits(M - 1, L.shift);
    return { pa: base | (a64 & bits(L.shift - 1, 0)) };
  }
  throw new Error('unreachable');
}
