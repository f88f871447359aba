/**
 * The two-byte opcode map (0F xx, SDM Vol. 2 Table A-3): its general-purpose and system rows
 * (descriptor tables, control/debug registers, SYSCALL/SYSENTER, CPUID, bit tests, CMPXCHG,
 * Jcc rel32, SETcc, CMOVcc, BSWAP, the 0F 01 / 0F AE / 0F C7 groups). MMX/SSE rows of the same
 * map are in table-sse.ts.
 */
import {
  F_BRANCH, F_CR, F_DEF64, F_DR, F_F64, F_LOCK, F_MODREG, F_ONLY64, F_PRIV,
  F_SENS, type Setter,
} from './table-defs.js';

export function define0F(set: Setter): void {
  // group 6
  set('0F 00 /0 mem', 'sldt', 'Mw', F_SENS);
  set('0F 00 /0 reg', 'sldt', 'Rv', F_SENS);
  set('0F 00 /1 mem', 'str', 'Mw', F_SENS);
  set('0F 00 /1 reg', 'str', 'Rv', F_SENS);
  set('0F 00 /2', 'lldt', 'Ew', F_PRIV);
  set('0F 00 /3', 'ltr', 'Ew', F_PRIV);
  set('0F 00 /4', 'verr', 'Ew', F_SENS);
  set('0F 00 /5', 'verw', 'Ew', F_SENS);
  // group 7, memory forms
  set('0F 01 /0 mem', 'sgdt', 'Ms', F_SENS);
  set('0F 01 /1 mem', 'sidt', 'Ms', F_SENS);
  set('0F 01 /2 mem', 'lgdt', 'Ms', F_PRIV);
  set('0F 01 /3 mem', 'lidt', 'Ms', F_PRIV);
  set('0F 01 /4 mem', 'smsw', 'Mw', F_SENS);
  set('0F 01 /4 reg', 'smsw', 'Rv', F_SENS);
  set('0F 01 /6', 'lmsw', 'Ew', F_PRIV);
  set('0F 01 /7 mem', 'invlpg', 'Mb', F_PRIV);
  // group 7, register forms (the whole ModRM byte selects)
  set('NP 0F 01 C1', 'vmcall', '', F_BRANCH, 'vmx');
  set('NP 0F 01 C2', 'vmlaunch', '', F_PRIV | F_BRANCH, 'vmx');
  set('NP 0F 01 C3', 'vmresume', '', F_PRIV | F_BRANCH, 'vmx');
  set('NP 0F 01 C4', 'vmxoff', '', F_PRIV, 'vmx');
  set('NP 0F 01 C8', 'monitor', '', F_PRIV, 'monitor');
  set('NP 0F 01 C9', 'mwait', '', F_PRIV, 'monitor');
  set('NP 0F 01 CA', 'clac', '', F_PRIV, 'smap');
  set('NP 0F 01 CB', 'stac', '', F_PRIV, 'smap');
  set('NP 0F 01 D0', 'xgetbv', '', 0, 'xsave');
  set('NP 0F 01 D1', 'xsetbv', '', F_PRIV, 'xsave');
  set('NP 0F 01 D5', 'xend', '', F_BRANCH, 'rtm');
  set('NP 0F 01 D6', 'xtest', '', 0, 'rtm');
  set('NP 0F 01 CF', 'encls', '', F_PRIV, 'sgx');
  set('NP 0F 01 D7', 'enclu', '', 0, 'sgx');
  set('NP 0F 01 C0', 'enclv', '', F_PRIV, 'sgx');
  set('NP 0F 01 C5', 'pconfig', '', F_PRIV, 'pconfig');
  set('NP 0F 01 D4', 'vmfunc', '', 0, 'vmx');
  set('0F 01 D9', 'vmmcall', '', F_BRANCH, 'svm');
  set('0F 01 DC', 'stgi', '', F_PRIV, 'svm');
  set('0F 01 DD', 'clgi', '', F_PRIV, 'svm');
  set('NP 0F 01 E8', 'serialize', '', 0, 'serialize');
  set('NP 0F 01 EE', 'rdpkru', '', 0, 'pku');
  set('NP 0F 01 EF', 'wrpkru', '', 0, 'pku');
  set('NP 0F 01 FA', 'monitorx', '', 0, 'monitorx');
  set('NP 0F 01 FB', 'mwaitx', '', 0, 'monitorx');
  set('NP 0F 01 FD', 'rdpru', '', 0, 'rdpru');
  set('0F 01 F8', 'swapgs', '', F_PRIV | F_ONLY64);
  set('0F 01 F9', 'rdtscp', '', 0, 'rdtscp');
  set('0F 02', 'lar', 'Gv,Ew', F_SENS);
  set('0F 03', 'lsl', 'Gv,Ew', F_SENS);
  set('0F 05', 'syscall', '', F_BRANCH, 'syscall');
  set('0F 06', 'clts', '', F_PRIV);
  set('0F 07', 'sysret|sysret|sysretq', '', F_PRIV | F_BRANCH, '', 'sysret');
  set('0F 08', 'invd', '', F_PRIV);
  set('0F 09', 'wbinvd', '', F_PRIV);
  set('0F 0B', 'ud2', '', F_BRANCH);
  set('0F 0D /0 mem', 'prefetch_exclusive', 'Mb', 0, '3dnowprefetch', 'prefetchExclusiveMb');
  set('0F 0D /1 mem', 'prefetchw', 'Mb', 0, '3dnowprefetch');
  set('0F 0D /2 mem', 'prefetchwt1', 'Mb', 0, 'prefetchwt1');
  set('0F 0D /3 mem', 'prefetchw', 'Mb', 0, '3dnowprefetch');
  for (let r = 4; r < 8; r++) set(`0F 0D /${r} mem`, 'prefetch_reserved', 'Mb', 0, '', 'prefetchReservedMb');
  set('0F 0D reg', 'nop', 'Ev,Gv');
  set('0F 18 /6 mem', 'prefetchit1', 'Mb', 0, 'prefetchi');
  set('0F 18 /7 mem', 'prefetchit0', 'Mb', 0, 'prefetchi');
  set('NP 0F 1C /0 mem', 'cldemote', 'Mb', 0, 'cldemote');
  set('F3 0F 09', 'wbnoinvd', '', F_PRIV, 'wbnoinvd');
  set('0F 18 /0 mem', 'prefetchnta', 'Mb', 0, 'sse');
  set('0F 18 /1 mem', 'prefetcht0', 'Mb', 0, 'sse');
  set('0F 18 /2 mem', 'prefetcht1', 'Mb', 0, 'sse');
  set('0F 18 /3 mem', 'prefetcht2', 'Mb', 0, 'sse');
  // Reserved-NOP space: 0F 18..1F decode as NOP Ev,Gv (0F 1F /0 as NOP Ev).
  for (const op of ['18', '19', '1A', '1B', '1C', '1D', '1E', '1F']) set(`0F ${op}`, 'nop', 'Ev,Gv');
  set('0F 1F /0', 'nop', 'Ev');
  set('0F 20', 'mov', 'Ry,Cy', F_PRIV | F_MODREG | F_CR | F_F64);
  set('0F 21', 'mov', 'Ry,Dy', F_PRIV | F_MODREG | F_DR | F_F64);
  set('0F 22', 'mov', 'Cy,Ry', F_PRIV | F_MODREG | F_CR | F_F64 | F_BRANCH);
  set('0F 23', 'mov', 'Dy,Ry', F_PRIV | F_MODREG | F_DR | F_F64);
  set('0F 30', 'wrmsr', '', F_PRIV, 'msr');
  set('0F 31', 'rdtsc', '', 0, 'tsc');
  set('0F 32', 'rdmsr', '', F_PRIV, 'msr');
  set('0F 33', 'rdpmc', '');
  set('0F 34', 'sysenter', '', F_BRANCH, 'sep');
  set('0F 35', 'sysexit|sysexit|sysexitq', '', F_PRIV | F_BRANCH, 'sep', 'sysexit');
  set('NP 0F 37', 'getsec|getsec|getsecq', '', 0, 'smx', 'getsec');
  set('0F 40+cc', 'cmov*', 'Gv,Ev', 0, 'cmov', 'cmovccGvEv');
  set('0F 80+cc', 'j*', 'Jz', F_BRANCH | F_F64, '', 'jccJz');
  set('0F 90+cc', 'set*', 'Eb', 0, '', 'setccEb');
  set('0F A0', 'push', 'FS', F_DEF64);
  set('0F A1', 'pop', 'FS', F_DEF64);
  set('0F A2', 'cpuid', '', 0, 'cpuid');
  set('0F A3', 'bt', 'Ev,Gv');
  set('0F A4', 'shld', 'Ev,Gv,Ib');
  set('0F A5', 'shld', 'Ev,Gv,CL');
  set('0F A8', 'push', 'GS', F_DEF64);
  set('0F A9', 'pop', 'GS', F_DEF64);
  set('0F AA', 'rsm', '', F_BRANCH);
  set('0F AB', 'bts', 'Ev,Gv', F_LOCK);
  set('0F AC', 'shrd', 'Ev,Gv,Ib');
  set('0F AD', 'shrd', 'Ev,Gv,CL');
  set('0F AF', 'imul', 'Gv,Ev');
  set('0F B0', 'cmpxchg', 'Eb,Gb', F_LOCK);
  set('0F B1', 'cmpxchg', 'Ev,Gv', F_LOCK);
  set('0F B2', 'lss', 'Gv,Mp');
  set('0F B3', 'btr', 'Ev,Gv', F_LOCK);
  set('0F B4', 'lfs', 'Gv,Mp');
  set('0F B5', 'lgs', 'Gv,Mp');
  set('0F B6', 'movzx', 'Gv,Eb');
  set('0F B7', 'movzx', 'Gv,Ew');
  set('F3 0F B8', 'popcnt', 'Gv,Ev', 0, 'popcnt');
  set('0F B9', 'ud1', 'Gv,Ev', F_BRANCH);
  set('0F BA /4', 'bt', 'Ev,Ib');
  set('0F BA /5', 'bts', 'Ev,Ib', F_LOCK);
  set('0F BA /6', 'btr', 'Ev,Ib', F_LOCK);
  set('0F BA /7', 'btc', 'Ev,Ib', F_LOCK);
  set('0F BB', 'btc', 'Ev,Gv', F_LOCK);
  set('0F BC', 'bsf', 'Gv,Ev');
  set('F3 0F BC', 'tzcnt', 'Gv,Ev', 0, 'bmi1');
  set('0F BD', 'bsr', 'Gv,Ev');
  set('F3 0F BD', 'lzcnt', 'Gv,Ev', 0, 'lzcnt');
  set('0F BE', 'movsx', 'Gv,Eb');
  set('0F BF', 'movsx', 'Gv,Ew');
  set('0F C0', 'xadd', 'Eb,Gb', F_LOCK);
  set('0F C1', 'xadd', 'Ev,Gv', F_LOCK);
  set('NP 0F C3 mem', 'movnti', 'My,Gy', 0, 'sse2');
  set('0F C7 /1 mem', 'cmpxchg8b|cmpxchg8b|cmpxchg16b', 'Mq', F_LOCK, 'cx8', 'cmpxchg8b'); // cx16 with REX.W
  set('NP 0F C7 /3 mem', 'xrstors|xrstors|xrstors64', 'M', F_PRIV, 'xsaves');
  set('NP 0F C7 /4 mem', 'xsavec|xsavec|xsavec64', 'M', 0, 'xsavec');
  set('NP 0F C7 /5 mem', 'xsaves|xsaves|xsaves64', 'M', F_PRIV, 'xsaves');
  set('NP 0F C7 /6 mem', 'vmptrld', 'Mq', F_PRIV, 'vmx');
  set('NP 0F C7 /7 mem', 'vmptrst', 'Mq', F_PRIV, 'vmx');
  set('66 0F C7 /6 mem', 'vmclear', 'Mq', F_PRIV, 'vmx');
  set('F3 0F C7 /6 mem', 'vmxon', 'Mq', F_PRIV, 'vmx');
  for (const p of ['NP', '66']) {
    set(`${p} 0F C7 /6 reg`, 'rdrand', 'Rv', 0, 'rdrand');
    set(`${p} 0F C7 /7 reg`, 'rdseed', 'Rv', 0, 'rdseed');
  }
  set('F3 0F C7 /7 reg', 'rdpid', 'Ry', F_F64, 'rdpid');
  set('0F C8+r', 'bswap', 'Zv');
  set('0F FF', 'ud0', 'Gv,Ev', F_BRANCH);
  // group 15
  set('NP 0F AE /0 mem', 'fxsave|fxsave|fxsave64', 'M', 0, 'fxsr');
  set('NP 0F AE /1 mem', 'fxrstor|fxrstor|fxrstor64', 'M', 0, 'fxsr');
  set('NP 0F AE /2 mem', 'ldmxcsr', 'Md', 0, 'sse');
  set('NP 0F AE /3 mem', 'stmxcsr', 'Md', 0, 'sse');
  set('NP 0F AE /4 mem', 'xsave|xsave|xsave64', 'M', 0, 'xsave');
  set('NP 0F AE /5 mem', 'xrstor|xrstor|xrstor64', 'M', 0, 'xsave');
  set('NP 0F AE /6 mem', 'xsaveopt|xsaveopt|xsaveopt64', 'M', 0, 'xsaveopt');
  set('NP 0F AE /7 mem', 'clflush', 'Mb', 0, 'clflush');
  set('66 0F AE /6 mem', 'clwb', 'Mb', 0, 'clwb');
  set('66 0F AE /7 mem', 'clflushopt', 'Mb', 0, 'clflushopt');
  set('NP 0F AE /5 reg', 'lfence', '', 0, 'sse2');
  set('NP 0F AE /6 reg', 'mfence', '', 0, 'sse2');
  set('NP 0F AE /7 reg', 'sfence', '', 0, 'sse');
  set('F3 0F AE /0 reg', 'rdfsbase', 'Ry', F_ONLY64, 'fsgsbase');
  set('F3 0F AE /1 reg', 'rdgsbase', 'Ry', F_ONLY64, 'fsgsbase');
  set('F3 0F AE /2 reg', 'wrfsbase', 'Ry', F_ONLY64, 'fsgsbase');
  set('F3 0F AE /3 reg', 'wrgsbase', 'Ry', F_ONLY64, 'fsgsbase');
  // 0F 38 / 0F 3A general-purpose rows
  set('NP 0F 38 F0 mem', 'movbe', 'Gv,Mv', 0, 'movbe');
  set('NP 0F 38 F1 mem', 'movbe', 'Mv,Gv', 0, 'movbe');
  set('66 0F 38 F0 mem', 'movbe', 'Gv,Mv', 0, 'movbe');
  set('66 0F 38 F1 mem', 'movbe', 'Mv,Gv', 0, 'movbe');
  set('F2 0F 38 F0', 'crc32', 'Gy,Eb', 0, 'sse4.2');
  set('F2 0F 38 F1', 'crc32', 'Gy,Ev', 0, 'sse4.2');
  set('66 0F 38 F6', 'adcx', 'Gy,Ey', 0, 'adx');
  set('F3 0F 38 F6', 'adox', 'Gy,Ey', 0, 'adx');
  set('66 0F 38 80 mem', 'invept', 'Gy,Mdq', F_PRIV | F_F64, 'vmx');
  set('66 0F 38 81 mem', 'invvpid', 'Gy,Mdq', F_PRIV | F_F64, 'vmx');
  set('66 0F 38 82 mem', 'invpcid', 'Gy,Mdq', F_PRIV | F_F64, 'invpcid');
}
