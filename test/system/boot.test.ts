/**
 * Integration: the interpreter with the system handlers boots test/system/boot.asm from real mode
 * through protected mode into long mode (LGDT, MOV CR0/CR3/CR4, far JMP, RDMSR/WRMSR EFER, CPUID,
 * OUT), then takes a #UD through the 64-bit IDT whose handler records the frame and halts.
 * The bytes below are `nasm -f bin test/system/boot.asm` (regenerate with
 * `nasm -f bin test/system/boot.asm -o /dev/stdout | xxd -p | tr -d '\\n'`).
 */
import { describe, expect, it } from 'vitest';
import {
  CR0_PG, EFER_LMA, MODE_LONG64, OFF_CR0, OFF_EFER, OFF_MODE, OFF_RFLAGS, OFF_RIP, SEG_CS,
} from '../../src/cpu/state.js';
import { GP_REGISTRARS } from '../../src/interp/dispatch.js';
import { Interpreter, RUN_HALT } from '../../src/interp/interpreter.js';
import { SYSTEM_REGISTRARS } from '../../src/interp/system-register.js';
import { VENDOR } from '../../src/system/cpuid.js';
import { makeCtx, seg, setSeg } from './helpers.js';

const BOOT = 'fa31c08ed88ed0bc007c0f0116007d0f20c06683c8010f22c0ea1e7c080066b810008ed88ec08ed0bc0000090031c00fa2891d00050000891504050000890d08050000bf0000010031c0b9000c0000f3abc7050000010003100100c7050010010003200100c7050020010083000000b8000001000f22d80f20e083c8200f22e0b9800000c00f320d000100000f300f20c00d000000800f22c0eaa07c000018000f011c25807d000048b88877665544332211488904250006000066baf803b041ee0f0b488b04244889042508060000488b4424084889042510060000f49090900000000000000000ffff0000009acf00ffff00000092cf00ffff0000009aaf001f00e07c000090909090909090909090000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c37c1800008e000000000000000000006f00107d000000000000';

describe('boot to long mode', () => {
  it('runs the boot program to its HLT in the #UD handler', () => {
    const ctx = makeCtx();
    const bytes = Uint8Array.from(BOOT.match(/../g)!.map((h) => parseInt(h, 16)));
    ctx.phys.writeBytes(0x7c00, bytes);
    setSeg(ctx, SEG_CS, 0, 0x9b, 0xffff, 0);
    for (const s of [0, 2, 3, 4, 5]) setSeg(ctx, s, 0, 0x93, 0xffff, 0);
    ctx.views.set64(OFF_RIP, 0x7c00, 0);
    ctx.views.set64(OFF_RFLAGS, 0x202, 0);
    const written: number[] = [];
    ctx.ports.register(0x3f8, 1, { portRead: () => 0, portWrite: (_p, _s, v) => void written.push(v) });
    const interp = new Interpreter(ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
    const r = interp.run(200000);
    expect(ctx.stopReason).toBe('');
    expect(r).toBe(RUN_HALT);
    const u32 = ctx.views.u32;
    expect(u32[OFF_MODE >>> 2]).toBe(MODE_LONG64);
    expect(u32[OFF_EFER >>> 2] & EFER_LMA).toBe(EFER_LMA);
    expect(u32[OFF_CR0 >>> 2] & CR0_PG).toBe(CR0_PG);
    expect(seg(ctx, SEG_CS).sel).toBe(0x18);
    const vendor = String.fromCharCode(...ctx.phys.readBytes(0x500, 12));
    expect(vendor).toBe(VENDOR);
    expect(written).toEqual([0x41]);
    expect(ctx.phys.read32(0x600)).toBe(0x55667788);
    expect(ctx.phys.read32(0x604)).toBe(0x11223344);
    expect(ctx.phys.read32(0x608)).toBe(0x7cc1); // the RIP of UD2
    expect(ctx.phys.read32(0x610)).toBe(0x18); // the CS pushed
    expect(ctx.vectorCounts[6]).toBe(1);
  });
});
