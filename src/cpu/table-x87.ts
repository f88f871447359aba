/**
 * x87 rows: the escape opcodes D8..DF (SDM Vol. 2 Tables A-7..A-22). The memory forms select
 * the operation by ModRM.reg and the operand type by the opcode (m32fp, m64fp, m16/m32/m64int,
 * m80); the register forms by reg (ST(i) operations) or by the whole ModRM byte (constants and
 * control operations). Undocumented aliases that iced-x86 and the CPU accept (FCOM2, FSTP1 ...)
 * are included under the mnemonic iced-x86 prints.
 */
import { F_X87, type Setter } from './table-defs.js';

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
const IARITH = ['fiadd', 'fimul', 'ficom', 'ficomp', 'fisub', 'fisubr', 'fidiv', 'fidivr'];

export function defineX87(set0: Setter): void {
  const set = (spec: string, m: string, ops: string, name = ''): void =>
    set0(spec, m, ops, F_X87, 'fpu', name);
  for (let r = 0; r < 8; r++) {
    set(`D8 /${r} mem`, ARITH[r], 'ST0,Md');
    set(`D8 /${r} reg`, ARITH[r], 'ST0,STi');
    set(`DA /${r} mem`, IARITH[r], 'ST0,Mdi');
    set(`DC /${r} mem`, ARITH[r], 'ST0,Mq');
    set(`DE /${r} mem`, IARITH[r], 'ST0,Mwi');
  }
  // D9
  set('D9 /0 mem', 'fld', 'ST0,Md');
  set('D9 /2 mem', 'fst', 'Md,ST0');
  set('D9 /3 mem', 'fstp', 'Md,ST0');
  set('D9 /4 mem', 'fldenv', 'Me');
  set('D9 /5 mem', 'fldcw', 'Mw');
  set('D9 /6 mem', 'fnstenv', 'Me');
  set('D9 /7 mem', 'fnstcw', 'Mw');
  set('D9 /0 reg', 'fld', 'ST0,STi');
  set('D9 /1 reg', 'fxch', 'ST0,STi');
  set('D9 D0', 'fnop', '');
  set('D9 /3 reg', 'fstpnce', 'STi,ST0');
  const d9 = ['fchs', 'fabs', '', '', 'ftst', 'fxam', '', '', 'fld1', 'fldl2t', 'fldl2e', 'fldpi',
    'fldlg2', 'fldln2', 'fldz', '', 'f2xm1', 'fyl2x', 'fptan', 'fpatan', 'fxtract', 'fprem1',
    'fdecstp', 'fincstp', 'fprem', 'fyl2xp1', 'fsqrt', 'fsincos', 'frndint', 'fscale', 'fsin', 'fcos'];
  d9.forEach((m, i) => { if (m !== '') set(`D9 ${hex(0xe0 + i)}`, m, ''); });
  // DA
  const fcmov1 = ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu'];
  fcmov1.forEach((m, r) => set(`DA /${r} reg`, m, 'ST0,STi'));
  set('DA E9', 'fucompp', '');
  // DB
  set('DB /0 mem', 'fild', 'ST0,Mdi');
  set('DB /1 mem', 'fisttp', 'Mdi,ST0');
  set('DB /2 mem', 'fist', 'Mdi,ST0');
  set('DB /3 mem', 'fistp', 'Mdi,ST0');
  set('DB /5 mem', 'fld', 'ST0,Mt');
  set('DB /7 mem', 'fstp', 'Mt,ST0');
  const fcmov2 = ['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'];
  fcmov2.forEach((m, r) => set(`DB /${r} reg`, m, 'ST0,STi'));
  set('DB E0', 'fneni', '');
  set('DB E1', 'fndisi', '');
  set('DB E2', 'fnclex', '');
  set('DB E3', 'fninit', '');
  set('DB E4', 'fnsetpm', '');
  set('DB /5 reg', 'fucomi', 'ST0,STi');
  set('DB /6 reg', 'fcomi', 'ST0,STi');
  // DC register forms: the destination is ST(i)
  const dcReg = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsubr', 'fsub', 'fdivr', 'fdiv'];
  dcReg.forEach((m, r) => set(`DC /${r} reg`, m, r === 2 || r === 3 ? 'ST0,STi' : 'STi,ST0',
    r === 2 || r === 3 ? `${m}ST0STi_dc` : ''));
  // DD
  set('DD /0 mem', 'fld', 'ST0,Mq');
  set('DD /1 mem', 'fisttp', 'Mqi,ST0');
  set('DD /2 mem', 'fst', 'Mq,ST0');
  set('DD /3 mem', 'fstp', 'Mq,ST0');
  set('DD /4 mem', 'frstor', 'Ms108');
  set('DD /6 mem', 'fnsave', 'Ms108');
  set('DD /7 mem', 'fnstsw', 'Mw');
  set('DD /0 reg', 'ffree', 'STi');
  set('DD /1 reg', 'fxch', 'ST0,STi', 'fxchST0STi_dd');
  set('DD /2 reg', 'fst', 'STi,ST0');
  set('DD /3 reg', 'fstp', 'STi,ST0');
  set('DD /4 reg', 'fucom', 'ST0,STi');
  set('DD /5 reg', 'fucomp', 'ST0,STi');
  // DE
  const deReg = ['faddp', 'fmulp', 'fcomp', '', 'fsubrp', 'fsubp', 'fdivrp', 'fdivp'];
  deReg.forEach((m, r) => {
    if (m !== '') set(`DE /${r} reg`, m, r === 2 ? 'ST0,STi' : 'STi,ST0', r === 2 ? 'fcompST0STi_de' : '');
  });
  set('DE D9', 'fcompp', '');
  // DF
  set('DF /0 mem', 'fild', 'ST0,Mwi');
  set('DF /1 mem', 'fisttp', 'Mwi,ST0');
  set('DF /2 mem', 'fist', 'Mwi,ST0');
  set('DF /3 mem', 'fistp', 'Mwi,ST0');
  set('DF /4 mem', 'fbld', 'ST0,Mt');
  set('DF /5 mem', 'fild', 'ST0,Mqi');
  set('DF /6 mem', 'fbstp', 'Mt,ST0');
  set('DF /7 mem', 'fistp', 'Mqi,ST0');
  set('DF /0 reg', 'ffreep', 'STi');
  set('DF /1 reg', 'fxch', 'ST0,STi', 'fxchST0STi_df');
  set('DF /2 reg', 'fstp', 'STi,ST0', 'fstpSTiST0_df2');
  set('DF /3 reg', 'fstp', 'STi,ST0', 'fstpSTiST0_df3');
  set('DF E0', 'fnstsw', 'AX');
  set('DF /5 reg', 'fucomip', 'ST0,STi');
  set('DF /6 reg', 'fcomip', 'ST0,STi');
}
