/**
 * Hardware task switches with 32-bit TSSs (SDM Vol. 3 §7.3, Figure 7-2 for the TSS layout):
 * a #DF through a task gate (with its error code pushed on the new task's stack, NT and the back
 * link set), IRET back through the back link, and JMP to a TSS (busy bits move, no link).
 */
import { describe, expect, it } from 'vitest';
import {
  CR0_TS, FLAG_NT, OFF_CR0, OFF_RFLAGS, OFF_RIP, REG_RAX, SEG_CS, SEG_DS, SEG_SS, SEG_TR, gprOffset,
} from '../../src/cpu/state.js';
import { VEC_DF, VEC_GP, faultWithCode } from '../../src/cpu/fault.js';
import { EV_EXCEPTION, deliver } from '../../src/system/interrupts.js';
import { iret } from '../../src/system/iret.js';
import { jmpFar } from '../../src/system/far.js';
import { GDT, IDT, TSS, makeCtx, prot32, put, rd32, rsp, seg, segDesc, setGdt, setIdt, setRsp } from './helpers.js';

const TSS2 = 0x5000;

function twoTasks() {
  const ctx = makeCtx();
  prot32(ctx);
  setGdt(ctx, [
    [0, 0],
    segDesc(0, 0xfffff, 0x9b, 0xc), // 0x08
    segDesc(0, 0xfffff, 0x93, 0xc), // 0x10
    segDesc(0, 0xfffff, 0xfb, 0xc), // 0x18
    segDesc(0, 0xfffff, 0xf3, 0xc), // 0x20
    [0, 0], [0, 0],
    segDesc(TSS, 0x67, 0x8b, 0), // 0x38 the current task's TSS, busy
    segDesc(TSS2, 0x67, 0x89, 0), // 0x40 a second TSS, available
  ]);
  // The second task's state (Figure 7-2 offsets).
  put(ctx, TSS2 + 0x1c, [0, 0x6000, 0x2, 0x11, 0x22, 0x33, 0x44, 0x9000, 0x66, 0x77, 0x88]);
  put(ctx, TSS2 + 0x48, [0x10, 0x08, 0x10, 0x10, 0, 0, 0]);
  ctx.views.set64(gprOffset(REG_RAX), 0xaaaa, 0);
  setRsp(ctx, 0x7000);
  ctx.views.set64(OFF_RIP, 0x1234, 0);
  return ctx;
}

const descType = (ctx: ReturnType<typeof makeCtx>, sel: number) => (rd32(ctx, GDT + sel + 4) >>> 8) & 0xf;

describe('task switching', () => {
  it('#DF through a task gate: state saved, new task loaded, error code pushed, NT and back link set', () => {
    const ctx = twoTasks();
    setIdt(ctx, 0xff);
    put(ctx, IDT + VEC_DF * 8, [0x00400000, 0x8500]); // task gate → TSS selector 0x40
    expect(deliver(ctx, VEC_DF, 0, EV_EXCEPTION)).toBe(0);
    expect(ctx.views.getNum(OFF_RIP)).toBe(0x6000);
    expect(seg(ctx, SEG_TR).sel).toBe(0x40);
    expect(seg(ctx, SEG_CS).sel).toBe(0x08);
    expect(seg(ctx, SEG_SS).sel).toBe(0x10);
    expect(ctx.views.getNum(gprOffset(REG_RAX))).toBe(0x11);
    expect(rsp(ctx)).toBe(0x9000 - 4);
    expect(rd32(ctx, 0x9000 - 4)).toBe(0); // #DF's error code on the new stack
    expect(ctx.views.u32[OFF_RFLAGS >>> 2] & FLAG_NT).toBe(FLAG_NT);
    expect(ctx.views.u32[OFF_CR0 >>> 2] & CR0_TS).toBe(CR0_TS);
    expect(ctx.phys.read16(TSS2)).toBe(0x38); // back link
    expect(descType(ctx, 0x40)).toBe(0xb); // new TSS busy
    expect(descType(ctx, 0x38)).toBe(0xb); // old TSS stays busy (nested)
    expect(rd32(ctx, TSS + 0x20)).toBe(0x1234); // outgoing EIP
    expect(rd32(ctx, TSS + 0x28)).toBe(0xaaaa); // outgoing EAX
    expect(rd32(ctx, TSS + 0x38)).toBe(0x7000); // outgoing ESP
    expect(rd32(ctx, TSS + 0x4c)).toBe(0x08); // outgoing CS

    // IRET with NT: back to the first task.
    ctx.views.set64(OFF_RIP, 0x6010, 0); // (the IRET's next instruction, saved in TSS2)
    expect(iret(ctx, 4)).toBe(0);
    expect(ctx.views.getNum(OFF_RIP)).toBe(0x1234);
    expect(seg(ctx, SEG_TR).sel).toBe(0x38);
    expect(ctx.views.getNum(gprOffset(REG_RAX))).toBe(0xaaaa);
    expect(rsp(ctx)).toBe(0x7000);
    expect(descType(ctx, 0x40)).toBe(0x9); // the task we left is available again
    expect(rd32(ctx, TSS2 + 0x20)).toBe(0x6010);
    expect(rd32(ctx, TSS2 + 0x24) & FLAG_NT).toBe(0); // IRET clears NT in the saved image
  });

  it('JMP to a TSS moves the busy bit and links nothing; a busy TSS is #GP(selector)', () => {
    const ctx = twoTasks();
    expect(jmpFar(ctx, 0x40, 0, 0, 4)).toBe(0);
    expect(ctx.views.getNum(OFF_RIP)).toBe(0x6000);
    expect(descType(ctx, 0x38)).toBe(0x9);
    expect(descType(ctx, 0x40)).toBe(0xb);
    expect(ctx.views.u32[OFF_RFLAGS >>> 2] & FLAG_NT).toBe(0);
    expect(ctx.phys.read16(TSS2)).toBe(0);
    expect(seg(ctx, SEG_DS).sel).toBe(0x10);
    expect(jmpFar(ctx, 0x40, 0, 0, 4)).toBe(faultWithCode(VEC_GP, 0x40));
  });
});
