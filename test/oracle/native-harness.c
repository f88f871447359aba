/*
 * native-harness.c: runs small x86 code snippets on the host CPU so the interpreter can be checked
 * against real hardware (ARCHITECTURE.md §9). One process runs a whole batch: it reads test cases
 * from stdin, runs each natively between a trampoline that loads and stores every general-purpose
 * register and the flags, catches faults as signals and reports them as x86 vectors, and writes
 * one result per case to stdout. A case ends on the INT3 right after its code (the SIGTRAP there is
 * the normal exit), so the bytes after the code are the same 0xCC filler the interpreter's test
 * machine has. The same file builds as a 64-bit program (cases run in 64-bit
 * mode) and with -m32 as a 32-bit one (cases run in 32-bit protected mode, i.e. compatibility
 * mode under a 64-bit kernel). test/oracle/native.ts compiles it and speaks its protocol.
 *
 * Fixed addresses (identical in both builds, so RIP-relative and absolute operands match the
 * interpreter run at the same addresses):
 *   SCRATCH_BASE 0x10000000, SCRATCH_SIZE 4096: the case's memory, read/write; the stack lives
 *                in it too (point RSP at its top part), so pushes show in the returned memory
 *   CODE_BASE    0x20000000, CODE_SIZE 4096: the case's code; the rest of the page is 0xCC
 *                (INT3). Read and execute only while the case runs: a store to it is #PF
 *   64 KiB of PROT_NONE guard on both sides of each, so stray accesses fault (#PF) instead of
 *   hitting something else.
 *   32-bit build only: FS = 0x07 when the case starts, an LDT data segment with base SCRATCH_BASE
 *   and limit SCRATCH_SIZE - 1 (byte granular, 32-bit, read/write), so 16-bit addressing reaches
 *   the scratch block through an FS override and segment limits are checked (#GP beyond).
 *   DS = ES = SS = 0x0F, an LDT data segment with base 0 and limit CODE_BASE + CODE_SIZE - 1
 *   (page granular, 32-bit, read/write): the harness itself is linked at 0x40000000 and the
 *   kernel's stack/vDSO/mmap area is near 4 GiB, so no access can reach the harness's memory.
 *
 * Protocol, all little-endian. Output starts with a 16-byte header:
 *   u32 magic 0x4F4E5652 ("RVNO"), u32 version 2, u32 word size in bits (64 or 32), u32 flags
 *   (bit 0: syscalls from case code are trapped by seccomp; bit 1: FS holds the scratch segment;
 *   bit 2: DS/ES/SS hold the limited flat segment)
 * Each input case:
 *   u16 code_len (<= CODE_MAX), u16 mem_len (<= SCRATCH_SIZE), u32 reserved (0),
 *   u64 regs[16] (x86 order rax rcx rdx rbx rsp rbp rsi rdi r8..r15; 32-bit build: low halves
 *   of the first 8), u64 rflags (only CF PF AF ZF SF DF OF are taken), code bytes, memory bytes
 *   (memory beyond mem_len starts as zero)
 * Each output result:
 *   i32 fault (-1 none, 0..31 the x86 vector, -2 a system call was attempted, -3 timeout: over
 *   about 0.1 s of CPU time), u32 error code (the vector's, as the kernel reports it; 0 for -2
 *   and -3), u64 fault address (CR2, for #PF only), u64 fault RIP (where the fault was taken),
 *   u64 regs[16], u64 rflags (the whole register: bit 1 and IF are set), u8 memory[SCRATCH_SIZE].
 * On a fault the registers are those the CPU had when it took the exception: for a fault, the
 * state before the faulting instruction; for a trap (INT3, INT1), the state after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/ldt.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#define SCRATCH_BASE 0x10000000UL
#define SCRATCH_SIZE 4096
#define CODE_BASE 0x20000000UL
#define CODE_SIZE 4096
#define CODE_MAX (CODE_SIZE - 64)
#define GUARD 0x10000UL
#define TIMER_USEC 10000
#define TIMEOUT_TICKS 10 /* x TIMER_USEC of CPU time: 0.1 s */

#define FAULT_NONE (-1)
#define FAULT_SYSCALL (-2)
#define FAULT_TIMEOUT (-3)

#define RFLAGS_IN_MASK 0xCD5UL /* CF PF AF ZF SF DF OF: never TF, IF, AC, ID */
#define RFLAGS_RF 0x10000UL

#define HID __attribute__((visibility("hidden"), used))

/* State shared with the trampoline (offsets used in the asm below: regs at 8*i, rflags at 128). */
struct regs {
  uint64_t r[16];
  uint64_t rflags;
};
HID struct regs g_in, g_out;
HID uintptr_t g_host_sp;   /* harness stack pointer while the case runs */
HID uintptr_t g_code_entry = CODE_BASE;
HID uint16_t g_sel[5];     /* ds es fs gs ss of the harness, restored after every case */
HID uint8_t g_fx[512] __attribute__((aligned(16)));

/* Set by the signal handler. */
static volatile sig_atomic_t g_running;
static volatile int g_ticks;
static uint32_t g_code_len;
static int32_t g_fault;
static uint32_t g_err;
static uint64_t g_fault_addr, g_fault_rip;

void rn_enter(void);
extern char rn_leave[];

#if defined(__x86_64__)
#define WORD_BITS 64
__asm__(
    ".intel_syntax noprefix\n"
    ".text\n"
    ".globl rn_enter\n"
    ".hidden rn_enter\n"
    "rn_enter:\n"
    "  push rbx\n push rbp\n push r12\n push r13\n push r14\n push r15\n"
    "  mov [rip+g_host_sp], rsp\n"
    "  fxsave [rip+g_fx]\n"
    "  mov [rip+g_sel], ds\n mov [rip+g_sel+2], es\n"
    "  push qword ptr [rip+g_in+128]\n popfq\n"
    "  mov rax, [rip+g_in+0]\n mov rcx, [rip+g_in+8]\n mov rdx, [rip+g_in+16]\n"
    "  mov rbx, [rip+g_in+24]\n mov rbp, [rip+g_in+40]\n mov rsi, [rip+g_in+48]\n"
    "  mov rdi, [rip+g_in+56]\n mov r8, [rip+g_in+64]\n mov r9, [rip+g_in+72]\n"
    "  mov r10, [rip+g_in+80]\n mov r11, [rip+g_in+88]\n mov r12, [rip+g_in+96]\n"
    "  mov r13, [rip+g_in+104]\n mov r14, [rip+g_in+112]\n mov r15, [rip+g_in+120]\n"
    "  mov rsp, [rip+g_in+32]\n"
    "  jmp qword ptr [rip+g_code_entry]\n"
    ".globl rn_leave\n"
    ".hidden rn_leave\n"
    "rn_leave:\n" /* the signal handler resumes here after a fault, with RSP = g_host_sp */
    "  push 2\n popfq\n" /* DF, AC, TF clear, as the ABI wants */
    "  mov ds, [rip+g_sel]\n mov es, [rip+g_sel+2]\n"
    "  fxrstor [rip+g_fx]\n"
    "  pop r15\n pop r14\n pop r13\n pop r12\n pop rbp\n pop rbx\n"
    "  ret\n"
    ".att_syntax\n");

/* The guest may have changed FS or GS (selector or base); give libc its thread pointer back. */
static uint64_t g_fs_base, g_gs_base;
static long raw_syscall2(long nr, long a, long b) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}
static void save_thread_bases(void) {
  raw_syscall2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, (long)&g_fs_base);
  raw_syscall2(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, (long)&g_gs_base);
}
static void restore_thread_bases(void) {
  raw_syscall2(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, (long)g_fs_base);
  raw_syscall2(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, (long)g_gs_base);
}

static void context_to_out(ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) g_out.r[i] = (uint64_t)g[order[i]];
  g_out.rflags = (uint64_t)g[REG_EFL] & ~RFLAGS_RF;
  g_fault_rip = (uint64_t)g[REG_RIP];
  g_err = (uint32_t)g[REG_ERR];
  g_fault_addr = (uint64_t)g[REG_CR2];
}
static int context_trapno(ucontext_t *uc) { return (int)uc->uc_mcontext.gregs[REG_TRAPNO]; }
static uint64_t context_rip(ucontext_t *uc) { return (uint64_t)uc->uc_mcontext.gregs[REG_RIP]; }
static void context_resume_harness(ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  g[REG_RIP] = (greg_t)(uintptr_t)rn_leave;
  g[REG_RSP] = (greg_t)g_host_sp;
  g[REG_EFL] = 0x202;
}

#elif defined(__i386__)
#define WORD_BITS 32
__asm__(
    ".intel_syntax noprefix\n"
    ".text\n"
    ".globl rn_enter\n"
    "rn_enter:\n"
    "  push ebx\n push ebp\n push esi\n push edi\n"
    "  mov [g_host_sp], esp\n"
    "  fxsave [g_fx]\n"
    "  mov [g_sel], ds\n mov [g_sel+2], es\n mov [g_sel+4], fs\n mov [g_sel+6], gs\n mov [g_sel+8], ss\n"
    "  mov fs, [g_case_fs]\n"
    "  mov ax, [g_case_ds]\n"
    "  push dword ptr [g_in+128]\n popfd\n" /* from here on only MOVs: the flags stay */
    /* DS, ES, SS: the limited flat segment (SCRATCH_DS_32); the rest is read through CS (a
       user code segment is readable and flat). MOV SS holds off interrupts for the ESP load. */
    "  mov ds, ax\n mov es, ax\n mov ss, ax\n"
    "  mov esp, cs:[g_in+32]\n"
    "  mov eax, cs:[g_in+0]\n mov ecx, cs:[g_in+8]\n mov edx, cs:[g_in+16]\n mov ebx, cs:[g_in+24]\n"
    "  mov ebp, cs:[g_in+40]\n mov esi, cs:[g_in+48]\n mov edi, cs:[g_in+56]\n"
    "  jmp dword ptr cs:[g_code_entry]\n"
    ".globl rn_leave\n"
    "rn_leave:\n"
    "  push 2\n popfd\n"
    "  mov ax, ss:[g_sel]\n mov ds, ax\n mov es, [g_sel+2]\n mov fs, [g_sel+4]\n mov gs, [g_sel+6]\n"
    "  fxrstor [g_fx]\n"
    "  pop edi\n pop esi\n pop ebp\n pop ebx\n"
    "  ret\n"
    ".att_syntax\n");

/* FS for the case: an LDT data segment over the scratch block, so that 16-bit addressing (whose
   offsets stay below 64 KiB) can reach it with an FS override, and limits are checked. */
HID uint16_t g_case_fs, g_case_ds;
/* DS, ES and SS for the case: base 0, limit LIMITED_TOP (the end of the code page). The harness
   is linked above it (-Ttext-segment=0x40000000) and the kernel puts the stack, vDSO and mmap
   area near 4 GiB, so below the limit only scratch and code (and their guards) are mapped, as in
   the interpreter's test machine: any other access is #PF there or #GP/#SS beyond the limit,
   never a silent hit in the harness's own memory. */
#define LIMITED_TOP (CODE_BASE + CODE_SIZE - 1)
static void save_thread_bases(void) {
  struct user_desc d;
  memset(&d, 0, sizeof d);
  d.entry_number = 0;
  d.base_addr = SCRATCH_BASE;
  d.limit = SCRATCH_SIZE - 1;
  d.seg_32bit = 1;
  d.useable = 1;
  if (syscall(SYS_modify_ldt, 1, &d, sizeof d) == 0) g_case_fs = 0x07; /* LDT entry 0, RPL 3 */
  memset(&d, 0, sizeof d);
  d.entry_number = 1;
  d.base_addr = 0;
  d.limit = LIMITED_TOP >> 12;
  d.limit_in_pages = 1;
  d.seg_32bit = 1;
  d.useable = 1;
  if (syscall(SYS_modify_ldt, 1, &d, sizeof d) == 0) g_case_ds = 0x0f; /* LDT entry 1, RPL 3 */
  else __asm__ volatile("mov %%ds, %0" : "=r"(g_case_ds));
}
/* 32-bit Linux keeps the thread pointer in GS's descriptor: reloading the selector restores it. */
static void restore_thread_bases(void) {}

static void context_to_out(ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  static const int order[8] = {REG_EAX, REG_ECX, REG_EDX, REG_EBX,
                               REG_ESP, REG_EBP, REG_ESI, REG_EDI};
  for (int i = 0; i < 8; i++) g_out.r[i] = (uint32_t)g[order[i]];
  g_out.rflags = (uint32_t)g[REG_EFL] & ~RFLAGS_RF;
  g_fault_rip = (uint32_t)g[REG_EIP];
  g_err = (uint32_t)g[REG_ERR];
  g_fault_addr = (uint32_t)uc->uc_mcontext.cr2;
}
static int context_trapno(ucontext_t *uc) { return (int)uc->uc_mcontext.gregs[REG_TRAPNO]; }
static uint64_t context_rip(ucontext_t *uc) { return (uint32_t)uc->uc_mcontext.gregs[REG_EIP]; }
static void context_resume_harness(ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  g[REG_EIP] = (greg_t)(uintptr_t)rn_leave;
  g[REG_ESP] = (greg_t)g_host_sp;
  g[REG_EFL] = 0x202;
  g[REG_DS] = g_sel[0];
  g[REG_ES] = g_sel[1];
  g[REG_FS] = g_sel[2];
  g[REG_GS] = g_sel[3];
  g[REG_SS] = g_sel[4];
}
#else
#error "x86 only"
#endif

/* ---- signals ------------------------------------------------------------------------------ */

/* Only when the trap number is missing (qemu-i386 does not fill it in): a best guess from the
   signal. Cannot tell #OF, #BR or #SS from #GP. */
static int vector_from_signal(int sig, int code) {
  switch (sig) {
    case SIGFPE: return code == FPE_INTDIV || code == FPE_INTOVF ? 0 : 16;
    case SIGILL: return 6;
    case SIGTRAP: return code == TRAP_TRACE ? 1 : 3;
    case SIGBUS: return 17;
    default: return code == SEGV_MAPERR || code == SEGV_ACCERR ? 14 : 13;
  }
}

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = (ucontext_t *)ctx;
  if (!g_running) {
    if (sig == SIGPROF) return;
    /* A fault in the harness itself: die of it, so the caller sees the crash. */
    signal(sig, SIG_DFL);
    return;
  }
  if (sig == SIGPROF) {
    if (++g_ticks <= TIMEOUT_TICKS) return; /* the case continues where it was interrupted */
    g_fault = FAULT_TIMEOUT;
  } else if (sig == SIGSYS) {
    g_fault = FAULT_SYSCALL;
  } else if (sig == SIGTRAP && context_rip(uc) == CODE_BASE + g_code_len + 1) {
    /* The INT3 right after the code: the case ran to its end (TF is never set, and an INT3 of the
       case's own would stop one byte earlier; qemu-i386 leaves the trap number out). */
    context_to_out(uc);
    g_fault = FAULT_NONE;
    g_fault_addr = 0;
    g_fault_rip = 0;
    g_err = 0;
    g_running = 0;
    context_resume_harness(uc);
    return;
  } else {
    g_fault = context_trapno(uc);
    if (g_fault < 0 || g_fault > 31) g_fault = vector_from_signal(sig, si->si_code);
  }
  context_to_out(uc);
  if (g_fault != 14) g_fault_addr = 0; /* CR2 only means something for #PF */
  if (g_fault < 0) g_err = 0;
  g_running = 0;
  context_resume_harness(uc);
}

static void install_signals(void) {
  static uint8_t altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    perror("sigaltstack");
    exit(2);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  /* ONSTACK: the case's RSP may point anywhere, and the frame must not land in scratch memory.
     NODEFER: we leave the handler by rewriting its context, so keep every signal unblocked. */
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGPROF};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  /* Under qemu-i386 the profiling timer's signals can deadlock the emulator (seen as a sleeping
     process that never answers); native.ts sets RINGVM_NO_TIMER there. Generated cases always
     end (branches have zero displacements), so the timeout is only a safety net. */
  if (getenv("RINGVM_NO_TIMER") == NULL) {
    struct itimerval it = {{0, TIMER_USEC}, {0, TIMER_USEC}};
    setitimer(ITIMER_PROF, &it, NULL);
  }
}

/* Any system call made from the case's code page raises SIGSYS instead of running: random code
   must not write to our stdout or unmap our memory. The harness's own calls are untouched. */
static int install_seccomp(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12), /* instruction_pointer, high half */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8), /* low half */
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)CODE_BASE, 0, 2),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)(CODE_BASE + CODE_SIZE), 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 0;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* ---- memory ----------------------------------------------------------------------------------- */

static uint8_t *map_fixed(uintptr_t base, size_t size, int prot) {
  void *g = mmap((void *)(base - GUARD), size + 2 * GUARD, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (g != (void *)(base - GUARD) || mprotect((void *)base, size, prot) != 0) {
    fprintf(stderr, "native-harness: cannot map %#lx: %s\n", (unsigned long)base, strerror(errno));
    exit(2);
  }
  return (uint8_t *)base;
}

/* ---- I/O: whole reads and buffered writes ------------------------------------------------------ */

static int read_all(void *buf, size_t n) { /* 1 ok, 0 clean EOF before any byte, -1 error */
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(0, (uint8_t *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return got == 0 && r == 0 ? 0 : -1;
    got += (size_t)r;
  }
  return 1;
}

static uint8_t g_obuf[1 << 16];
static size_t g_olen;
static void flush_out(void) {
  size_t off = 0;
  while (off < g_olen) {
    ssize_t w = write(1, g_obuf + off, g_olen - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(3);
    off += (size_t)w;
  }
  g_olen = 0;
}
static void put(const void *p, size_t n) {
  if (g_olen + n > sizeof g_obuf) flush_out();
  memcpy(g_obuf + g_olen, p, n);
  g_olen += n;
}

/* ---- main loop --------------------------------------------------------------------------------- */

int main(void) {
  uint8_t *scratch = map_fixed(SCRATCH_BASE, SCRATCH_SIZE, PROT_READ | PROT_WRITE);
  uint8_t *code = map_fixed(CODE_BASE, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
  save_thread_bases();
  install_signals();
  int sandboxed = install_seccomp();

#if defined(__i386__)
  if (g_case_fs) sandboxed |= 2;
  if (g_case_ds == 0x0f) sandboxed |= 4;
#endif
  uint32_t header[4] = {0x4F4E5652, 2, WORD_BITS, (uint32_t)sandboxed};
  put(header, sizeof header);

  for (;;) {
    struct {
      uint16_t code_len, mem_len;
      uint32_t reserved;
      uint64_t regs[16];
      uint64_t rflags;
    } in;
    int r = read_all(&in, sizeof in);
    if (r == 0) break;
    if (r < 0 || in.code_len > CODE_MAX || in.mem_len > SCRATCH_SIZE) {
      fprintf(stderr, "native-harness: malformed case\n");
      flush_out();
      return 2;
    }
    mprotect(code, CODE_SIZE, PROT_READ | PROT_WRITE);
    memset(code, 0xCC, CODE_SIZE);
    memset(scratch, 0, SCRATCH_SIZE);
    if (read_all(code, in.code_len) < 0 || read_all(scratch, in.mem_len) < 0) {
      fprintf(stderr, "native-harness: truncated case\n");
      flush_out();
      return 2;
    }
    /* The code runs read-only (a write to it is #PF, as in the test machine: the interpreter stops
       at the end of the code and never sees a patched INT3). */
    mprotect(code, CODE_SIZE, PROT_READ | PROT_EXEC);
    g_code_len = in.code_len;

    memcpy(g_in.r, in.regs, sizeof g_in.r);
    g_in.rflags = (in.rflags & RFLAGS_IN_MASK) | 0x202;
    memset(&g_out, 0, sizeof g_out);
    g_fault = FAULT_NONE;
    g_err = 0;
    g_fault_addr = 0;
    g_fault_rip = 0;
    g_ticks = 0;
    g_running = 1;
    rn_enter();
    g_running = 0;
    restore_thread_bases();

    struct {
      int32_t fault;
      uint32_t err;
      uint64_t fault_addr, fault_rip;
    } res = {g_fault, g_err, g_fault_addr, g_fault_rip};
    put(&res, sizeof res);
    put(&g_out, sizeof g_out);
    put(scratch, SCRATCH_SIZE);
    flush_out(); /* per case: if a later case kills us, every earlier result has been delivered */
  }
  flush_out();
  return 0;
}
