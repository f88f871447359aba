/**
 * Oracle family: the decoder and disassembler against iced-x86 on a deterministic sample of
 * biased random byte strings per mode (validity, length, mnemonic; full Intel text for
 * general-purpose/system rows). scripts/fuzz-decoder.ts runs the same comparison by the million.
 */
import { describe, expect, it } from 'vitest';
import { Oracle, Rng, hexOf, randomInsn } from './oracle.js';

const COUNT = 40_000;

describe('decoder vs iced-x86 on random byte strings', () => {
  for (const bitness of [16, 32, 64]) {
    it(`${bitness}-bit: ${COUNT} strings, no disagreement`, () => {
      const oracle = new Oracle(bitness);
      const rng = new Rng(0x5eed + bitness);
      const buf = new Uint8Array(COUNT * 16 + 16);
      for (let i = 0; i < COUNT; i++) randomInsn(rng, bitness, buf, i * 16);
      oracle.load(buf);
      const bad: string[] = [];
      let excluded = 0;
      let valid = 0;
      for (let i = 0; i < COUNT; i++) {
        const v = oracle.compare(buf, i * 16, i * 16 + 16);
        if (v.excluded) excluded++;
        if (oracle.d.status === 0) valid++;
        if (!v.ok && bad.length < 10) bad.push(`${hexOf(buf, i * 16, 16)}: ${v.why}`);
      }
      expect(bad).toEqual([]);
      // the sample must exercise real instructions, and the exclusions must stay rare
      expect(valid).toBeGreaterThan(COUNT / 2);
      expect(excluded).toBeLessThan(COUNT / 100);
    });
  }
});
