/**
 * MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2 (and the AES, PCLMULQDQ, SHA, SSE4a, 3DNow! and
 * VMX rows iced-x86 also decodes) in the 0F, 0F 38 and 0F 3A maps. Most opcodes have up to four
 * rows told apart by the mandatory prefix (NP = none, 66, F3, F2): MMX forms without prefix,
 * SSE2 integer forms with 66, packed single NP, packed double 66, scalar single F3, scalar double
 * F2. Operand letters follow the SDM: P/Q/N MMX register / MMX-or-memory / MMX register in rm,
 * V/W/U the XMM equivalents; size suffixes: ps pd ss sd x (128-bit) q d w b.
 */
import { F_F64, F_SSE, type Setter } from './table-defs.js';

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** 3DNow! operations by their imm8 (0F 0F /r ib). */
export const THREEDNOW_NAMES: string[] = new Array<string>(256).fill('');
const T3: [number, string][] = [[0x0c, 'pi2fw'], [0x0d, 'pi2fd'], [0x1c, 'pf2iw'], [0x1d, 'pf2id'],
  [0x8a, 'pfnacc'], [0x8e, 'pfpnacc'], [0x90, 'pfcmpge'], [0x94, 'pfmin'], [0x96, 'pfrcp'],
  [0x97, 'pfrsqrt'], [0x9a, 'pfsub'], [0x9e, 'pfadd'], [0xa0, 'pfcmpgt'], [0xa4, 'pfmax'],
  [0xa6, 'pfrcpit1'], [0xa7, 'pfrsqit1'], [0xaa, 'pfsubr'], [0xae, 'pfacc'], [0xb0, 'pfcmpeq'],
  [0xb4, 'pfmul'], [0xb6, 'pfrcpit2'], [0xb7, 'pmulhrw'], [0xbb, 'pswapd'], [0xbf, 'pavgusb']];
for (const [i, n] of T3) THREEDNOW_NAMES[i] = n;

export function defineSse(set0: Setter): void {
  const set = (spec: string, m: string, ops: string, feature = 'sse2', flags = 0): void =>
    set0(spec, m, ops, F_SSE | flags, feature);
  /** An SSE arithmetic opcode in its four forms ps/pd/ss/sd. */
  const arith4 = (op: string, base: string): void => {
    set(`NP 0F ${op}`, `${base}ps`, 'Vps,Wps', 'sse');
    set(`66 0F ${op}`, `${base}pd`, 'Vpd,Wpd');
    set(`F3 0F ${op}`, `${base}ss`, 'Vss,Wss', 'sse');
    set(`F2 0F ${op}`, `${base}sd`, 'Vsd,Wsd');
  };
  /** A packed-integer opcode with an MMX (NP) and an SSE2 (66) form. */
  const mmxSse = (spec: string, m: string, feature = 'sse2', mmxFeature = 'mmx'): void => {
    const [map, op] = spec.includes(' ') ? spec.split(' ') : ['0F', spec];
    const p = map === '0F' ? `0F ${op}` : `0F ${map} ${op}`;
    set(`NP ${p}`, m, 'Pq,Qq', mmxFeature);
    set(`66 ${p}`, m, 'Vx,Wx', feature);
  };
  set('NP 0F 10', 'movups', 'Vps,Wps', 'sse');
  set('66 0F 10', 'movupd', 'Vpd,Wpd');
  set('F3 0F 10', 'movss', 'Vss,Wss', 'sse');
  set('F2 0F 10', 'movsd', 'Vsd,Wsd');
  set('NP 0F 11', 'movups', 'Wps,Vps', 'sse');
  set('66 0F 11', 'movupd', 'Wpd,Vpd');
  set('F3 0F 11', 'movss', 'Wss,Vss', 'sse');
  set('F2 0F 11', 'movsd', 'Wsd,Vsd');
  set('NP 0F 12 mem', 'movlps', 'Vq,Mq', 'sse');
  set('NP 0F 12 reg', 'movhlps', 'Vq,Uq', 'sse');
  set('66 0F 12 mem', 'movlpd', 'Vq,Mq');
  set('F3 0F 12', 'movsldup', 'Vx,Wx', 'sse3');
  set('F2 0F 12', 'movddup', 'Vx,Wq', 'sse3');
  set('NP 0F 13 mem', 'movlps', 'Mq,Vq', 'sse');
  set('66 0F 13 mem', 'movlpd', 'Mq,Vq');
  set('NP 0F 14', 'unpcklps', 'Vx,Wx', 'sse');
  set('66 0F 14', 'unpcklpd', 'Vx,Wx');
  set('NP 0F 15', 'unpckhps', 'Vx,Wx', 'sse');
  set('66 0F 15', 'unpckhpd', 'Vx,Wx');
  set('NP 0F 16 mem', 'movhps', 'Vq,Mq', 'sse');
  set('NP 0F 16 reg', 'movlhps', 'Vq,Uq', 'sse');
  set('66 0F 16 mem', 'movhpd', 'Vq,Mq');
  set('F3 0F 16', 'movshdup', 'Vx,Wx', 'sse3');
  set('NP 0F 17 mem', 'movhps', 'Mq,Vq', 'sse');
  set('66 0F 17 mem', 'movhpd', 'Mq,Vq');
  set('NP 0F 28', 'movaps', 'Vps,Wps', 'sse');
  set('66 0F 28', 'movapd', 'Vpd,Wpd');
  set('NP 0F 29', 'movaps', 'Wps,Vps', 'sse');
  set('66 0F 29', 'movapd', 'Wpd,Vpd');
  set('NP 0F 2A', 'cvtpi2ps', 'Vx,Qq', 'sse');
  set('66 0F 2A', 'cvtpi2pd', 'Vx,Qq');
  set('F3 0F 2A', 'cvtsi2ss', 'Vss,Ey', 'sse');
  set('F2 0F 2A', 'cvtsi2sd', 'Vsd,Ey');
  set('NP 0F 2B mem', 'movntps', 'Mx,Vx', 'sse');
  set('66 0F 2B mem', 'movntpd', 'Mx,Vx');
  set('NP 0F 2C', 'cvttps2pi', 'Pq,Wq', 'sse');
  set('66 0F 2C', 'cvttpd2pi', 'Pq,Wx');
  set('F3 0F 2C', 'cvttss2si', 'Gy,Wss', 'sse');
  set('F2 0F 2C', 'cvttsd2si', 'Gy,Wsd');
  set('NP 0F 2D', 'cvtps2pi', 'Pq,Wq', 'sse');
  set('66 0F 2D', 'cvtpd2pi', 'Pq,Wx');
  set('F3 0F 2D', 'cvtss2si', 'Gy,Wss', 'sse');
  set('F2 0F 2D', 'cvtsd2si', 'Gy,Wsd');
  set('NP 0F 2E', 'ucomiss', 'Vss,Wss', 'sse');
  set('66 0F 2E', 'ucomisd', 'Vsd,Wsd');
  set('NP 0F 2F', 'comiss', 'Vss,Wss', 'sse');
  set('66 0F 2F', 'comisd', 'Vsd,Wsd');
  set('NP 0F 50 reg', 'movmskps', 'Gd,Ux', 'sse');
  set('66 0F 50 reg', 'movmskpd', 'Gd,Ux');
  arith4('51', 'sqrt');
  set('NP 0F 52', 'rsqrtps', 'Vps,Wps', 'sse');
  set('F3 0F 52', 'rsqrtss', 'Vss,Wss', 'sse');
  set('NP 0F 53', 'rcpps', 'Vps,Wps', 'sse');
  set('F3 0F 53', 'rcpss', 'Vss,Wss', 'sse');
  const logic = [['54', 'and'], ['55', 'andn'], ['56', 'or'], ['57', 'xor']];
  for (const [op, m] of logic) {
    set(`NP 0F ${op}`, `${m}ps`, 'Vps,Wps', 'sse');
    set(`66 0F ${op}`, `${m}pd`, 'Vpd,Wpd');
  }
  for (const [op, m] of [['58', 'add'], ['59', 'mul'], ['5C', 'sub'], ['5D', 'min'], ['5E', 'div'],
    ['5F', 'max']]) arith4(op, m);
  set('NP 0F 5A', 'cvtps2pd', 'Vx,Wq');
  set('66 0F 5A', 'cvtpd2ps', 'Vx,Wpd');
  set('F3 0F 5A', 'cvtss2sd', 'Vx,Wss');
  set('F2 0F 5A', 'cvtsd2ss', 'Vx,Wsd');
  set('NP 0F 5B', 'cvtdq2ps', 'Vx,Wx');
  set('66 0F 5B', 'cvtps2dq', 'Vx,Wx');
  set('F3 0F 5B', 'cvttps2dq', 'Vx,Wx');
  const p60 = ['punpcklbw', 'punpcklwd', 'punpckldq', 'packsswb', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd',
    'packuswb', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'packssdw'];
  p60.forEach((m, i) => mmxSse(hex(0x60 + i), m));
  set('66 0F 6C', 'punpcklqdq', 'Vx,Wx');
  set('66 0F 6D', 'punpckhqdq', 'Vx,Wx');
  set('NP 0F 6E', 'movd|movd|movq', 'Pq,Ey', 'mmx');
  set('66 0F 6E', 'movd|movd|movq', 'Vx,Ey');
  set('NP 0F 6F', 'movq', 'Pq,Qq', 'mmx');
  set('66 0F 6F', 'movdqa', 'Vx,Wx');
  set('F3 0F 6F', 'movdqu', 'Vx,Wx');
  set('NP 0F 70', 'pshufw', 'Pq,Qq,Ib', 'sse');
  set('66 0F 70', 'pshufd', 'Vx,Wx,Ib');
  set('F3 0F 70', 'pshufhw', 'Vx,Wx,Ib');
  set('F2 0F 70', 'pshuflw', 'Vx,Wx,Ib');
  const shifts: [string, number, string][] = [['71', 2, 'psrlw'], ['71', 4, 'psraw'], ['71', 6, 'psllw'],
    ['72', 2, 'psrld'], ['72', 4, 'psrad'], ['72', 6, 'pslld'], ['73', 2, 'psrlq'], ['73', 6, 'psllq']];
  for (const [op, r, m] of shifts) {
    set(`NP 0F ${op} /${r} reg`, m, 'Nq,Ib', 'mmx');
    set(`66 0F ${op} /${r} reg`, m, 'Ux,Ib');
  }
  set('66 0F 73 /3 reg', 'psrldq', 'Ux,Ib');
  set('66 0F 73 /7 reg', 'pslldq', 'Ux,Ib');
  mmxSse('74', 'pcmpeqb');
  mmxSse('75', 'pcmpeqw');
  mmxSse('76', 'pcmpeqd');
  set('NP 0F 77', 'emms', '', 'mmx');
  set0('NP 0F 78', 'vmread', 'Ey,Gy', F_F64, 'vmx');
  set0('NP 0F 79', 'vmwrite', 'Gy,Ey', F_F64, 'vmx');
  set('66 0F 78 /0 reg', 'extrq', 'Ux,Ib,Ib', 'sse4a');
  set('F2 0F 78 reg', 'insertq', 'Vx,Ux,Ib,Ib', 'sse4a');
  set('66 0F 79 reg', 'extrq', 'Vx,Ux', 'sse4a');
  set('F2 0F 79 reg', 'insertq', 'Vx,Ux', 'sse4a');
  set('66 0F 7C', 'haddpd', 'Vpd,Wpd', 'sse3');
  set('F2 0F 7C', 'haddps', 'Vps,Wps', 'sse3');
  set('66 0F 7D', 'hsubpd', 'Vpd,Wpd', 'sse3');
  set('F2 0F 7D', 'hsubps', 'Vps,Wps', 'sse3');
  set('NP 0F 7E', 'movd|movd|movq', 'Ey,Pq', 'mmx');
  set('66 0F 7E', 'movd|movd|movq', 'Ey,Vx');
  set('F3 0F 7E', 'movq', 'Vx,Wq');
  set('NP 0F 7F', 'movq', 'Qq,Pq', 'mmx');
  set('66 0F 7F', 'movdqa', 'Wx,Vx');
  set('F3 0F 7F', 'movdqu', 'Wx,Vx');
  set('NP 0F C2', 'cmpps', 'Vps,Wps,Ib', 'sse');
  set('66 0F C2', 'cmppd', 'Vpd,Wpd,Ib');
  set('F3 0F C2', 'cmpss', 'Vss,Wss,Ib', 'sse');
  set('F2 0F C2', 'cmpsd', 'Vsd,Wsd,Ib');
  set('NP 0F C4', 'pinsrw', 'Pq,Ew,Ib', 'sse');
  set('66 0F C4', 'pinsrw', 'Vx,Ew,Ib');
  set('NP 0F C5 reg', 'pextrw', 'Gd,Nq,Ib', 'sse');
  set('66 0F C5 reg', 'pextrw', 'Gd,Ux,Ib');
  set('NP 0F C6', 'shufps', 'Vps,Wps,Ib', 'sse');
  set('66 0F C6', 'shufpd', 'Vpd,Wpd,Ib');
  set('66 0F D0', 'addsubpd', 'Vpd,Wpd', 'sse3');
  set('F2 0F D0', 'addsubps', 'Vps,Wps', 'sse3');
  const pd1 = ['', 'psrlw', 'psrld', 'psrlq', 'paddq', 'pmullw'];
  pd1.forEach((m, i) => { if (m !== '') mmxSse(hex(0xd0 + i), m); });
  set('66 0F D6', 'movq', 'Wq,Vq');
  set('F3 0F D6 reg', 'movq2dq', 'Vx,Nq');
  set('F2 0F D6 reg', 'movdq2q', 'Pq,Uq');
  set('NP 0F D7 reg', 'pmovmskb', 'Gd,Nq', 'sse');
  set('66 0F D7 reg', 'pmovmskb', 'Gd,Ux');
  const pd8 = ['psubusb', 'psubusw', 'pminub', 'pand', 'paddusb', 'paddusw', 'pmaxub', 'pandn',
    'pavgb', 'psraw', 'psrad', 'pavgw', 'pmulhuw', 'pmulhw'];
  pd8.forEach((m, i) => mmxSse(hex(0xd8 + i), m));
  set('66 0F E6', 'cvttpd2dq', 'Vx,Wpd');
  set('F3 0F E6', 'cvtdq2pd', 'Vx,Wq');
  set('F2 0F E6', 'cvtpd2dq', 'Vx,Wpd');
  set('NP 0F E7 mem', 'movntq', 'Mq,Pq', 'sse');
  set('66 0F E7 mem', 'movntdq', 'Mx,Vx');
  const pe8 = ['psubsb', 'psubsw', 'pminsw', 'por', 'paddsb', 'paddsw', 'pmaxsw', 'pxor'];
  pe8.forEach((m, i) => mmxSse(hex(0xe8 + i), m));
  set('F2 0F F0 mem', 'lddqu', 'Vx,Mx', 'sse3');
  const pf1 = ['psllw', 'pslld', 'psllq', 'pmuludq', 'pmaddwd', 'psadbw'];
  pf1.forEach((m, i) => mmxSse(hex(0xf1 + i), m));
  set('NP 0F F7 reg', 'maskmovq', 'Pq,Nq', 'sse');
  set('66 0F F7 reg', 'maskmovdqu', 'Vx,Ux');
  const pf8 = ['psubb', 'psubw', 'psubd', 'psubq', 'paddb', 'paddw', 'paddd'];
  pf8.forEach((m, i) => mmxSse(hex(0xf8 + i), m));
  // 3DNow!: one row; the operation is the trailing imm8 (decoder.ts checks it, disasm names it).
  set('0F 0F', '3dnow', 'Pq,Qq,Ib', '3dnow');
  set('0F 0E', 'femms', '', '3dnow');

  // 0F 38: SSSE3 (MMX and XMM forms), SSE4.1, SSE4.2, AES, SHA
  const ssse3 = ['pshufb', 'phaddw', 'phaddd', 'phaddsw', 'pmaddubsw', 'phsubw', 'phsubd', 'phsubsw',
    'psignb', 'psignw', 'psignd', 'pmulhrsw'];
  ssse3.forEach((m, i) => mmxSse(`38 ${hex(i)}`, m, 'ssse3', 'ssse3'));
  mmxSse('38 1C', 'pabsb', 'ssse3', 'ssse3');
  mmxSse('38 1D', 'pabsw', 'ssse3', 'ssse3');
  mmxSse('38 1E', 'pabsd', 'ssse3', 'ssse3');
  const s41 = (op: string, m: string, ops = 'Vx,Wx', f = 'sse4.1'): void => set(`66 0F 38 ${op}`, m, ops, f);
  s41('10', 'pblendvb', 'Vx,Wx,XMM0');
  s41('14', 'blendvps', 'Vx,Wx,XMM0');
  s41('15', 'blendvpd', 'Vx,Wx,XMM0');
  s41('17', 'ptest');
  const pmov: [string, string][] = [['bw', 'Wq'], ['bd', 'Wd'], ['bq', 'Ww'], ['wd', 'Wq'], ['wq', 'Wd'],
    ['dq', 'Wq']];
  pmov.forEach(([s, w], i) => {
    s41(hex(0x20 + i), `pmovsx${s}`, `Vx,${w}`);
    s41(hex(0x30 + i), `pmovzx${s}`, `Vx,${w}`);
  });
  s41('28', 'pmuldq');
  s41('29', 'pcmpeqq');
  set('66 0F 38 2A mem', 'movntdqa', 'Vx,Mx', 'sse4.1');
  s41('2B', 'packusdw');
  s41('37', 'pcmpgtq', 'Vx,Wx', 'sse4.2');
  const mm = ['pminsb', 'pminsd', 'pminuw', 'pminud', 'pmaxsb', 'pmaxsd', 'pmaxuw', 'pmaxud', 'pmulld',
    'phminposuw'];
  mm.forEach((m, i) => s41(hex(0x38 + i), m));
  const aes = ['aesimc', 'aesenc', 'aesenclast', 'aesdec', 'aesdeclast'];
  aes.forEach((m, i) => s41(hex(0xdb + i), m, 'Vx,Wx', 'aes'));
  const sha = ['sha1nexte', 'sha1msg1', 'sha1msg2', 'sha256rnds2', 'sha256msg1', 'sha256msg2'];
  sha.forEach((m, i) => set(`NP 0F 38 ${hex(0xc8 + i)}`, m, i === 3 ? 'Vx,Wx,XMM0' : 'Vx,Wx', 'sha'));

  // 0F 3A: all with an imm8
  const s3a = (op: string, m: string, ops: string, f = 'sse4.1'): void => set(`66 0F 3A ${op}`, m, ops, f);
  s3a('08', 'roundps', 'Vx,Wx,Ib');
  s3a('09', 'roundpd', 'Vx,Wx,Ib');
  s3a('0A', 'roundss', 'Vss,Wss,Ib');
  s3a('0B', 'roundsd', 'Vsd,Wsd,Ib');
  s3a('0C', 'blendps', 'Vx,Wx,Ib');
  s3a('0D', 'blendpd', 'Vx,Wx,Ib');
  s3a('0E', 'pblendw', 'Vx,Wx,Ib');
  set('NP 0F 3A 0F', 'palignr', 'Pq,Qq,Ib', 'ssse3');
  s3a('0F', 'palignr', 'Vx,Wx,Ib', 'ssse3');
  s3a('14', 'pextrb', 'Eb,Vx,Ib');
  s3a('15', 'pextrw', 'Ew,Vx,Ib');
  s3a('16', 'pextrd|pextrd|pextrq', 'Ey,Vx,Ib');
  s3a('17', 'extractps', 'Ed,Vx,Ib');
  s3a('20', 'pinsrb', 'Vx,Eb,Ib');
  s3a('21', 'insertps', 'Vx,Wd,Ib');
  s3a('22', 'pinsrd|pinsrd|pinsrq', 'Vx,Ey,Ib');
  s3a('40', 'dpps', 'Vx,Wx,Ib');
  s3a('41', 'dppd', 'Vx,Wx,Ib');
  s3a('42', 'mpsadbw', 'Vx,Wx,Ib');
  s3a('44', 'pclmulqdq', 'Vx,Wx,Ib', 'pclmulqdq');
  s3a('60', 'pcmpestrm|pcmpestrm|pcmpestrm64', 'Vx,Wx,Ib', 'sse4.2');
  s3a('61', 'pcmpestri|pcmpestri|pcmpestri64', 'Vx,Wx,Ib', 'sse4.2');
  s3a('62', 'pcmpistrm', 'Vx,Wx,Ib', 'sse4.2');
  s3a('63', 'pcmpistri', 'Vx,Wx,Ib', 'sse4.2');
  s3a('DF', 'aeskeygenassist', 'Vx,Wx,Ib', 'aes');
  set('NP 0F 3A CC', 'sha1rnds4', 'Vx,Wx,Ib', 'sha');
}
