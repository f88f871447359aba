/* ulib.h: what user programs get: system call wrappers (through SYSCALL, or SYSENTER on the
 * 32-bit kernel, and a few through INT 0x80 to show both doors), printf to the console, and
 * try_fault. The same programs build for tinyos (64-bit) and tinyos32. */
#ifndef TINYOS_ULIB_H
#define TINYOS_ULIB_H
#include "../lib/lib.h"
#include "abi.h"

#ifdef __x86_64__
/* 64-bit: number in RAX, arguments in RDI, RSI, RDX; SYSCALL clobbers RCX and R11. */
static inline long sys3(long n, long a, long b, long c) {
  long r;
  register long rdx __asm__("rdx") = c;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "r"(rdx) : "rcx", "r11", "memory");
  return r;
}

static inline long int80(long n, long a, long b, long c) {
  long r;
  register long rdx __asm__("rdx") = c;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "D"(a), "S"(b), "r"(rdx) : "memory");
  return r;
}
#else
/* 32-bit: number in EAX, arguments in EBX, ECX, EDX. SYSENTER saves nothing, so the caller
 * passes its return address in ESI and its stack pointer in EBP; SYSEXIT clobbers ECX, EDX. */
static inline long sys3(long n, long a, long b, long c) {
  __asm__ volatile("push %%ebp\n\t"
                   "mov %%esp, %%ebp\n\t"
                   "mov $1f, %%esi\n\t"
                   "sysenter\n"
                   "1:\n\t"
                   "pop %%ebp"
                   : "+a"(n), "+b"(a), "+c"(b), "+d"(c)
                   :
                   : "esi", "memory");
  return n;
}

static inline long int80(long n, long a, long b, long c) {
  __asm__ volatile("int $0x80" : "+a"(n) : "b"(a), "c"(b), "d"(c) : "memory");
  return n;
}
#endif

static inline long write(const void *buf, long n) { return sys3(SYS_WRITE, (long)buf, n, 0); }
static inline void exit(int status) {
  sys3(SYS_EXIT, status, 0, 0);
  __builtin_unreachable();
}
static inline void yield(void) { sys3(SYS_YIELD, 0, 0, 0); }
static inline int getpid(void) { return (int)sys3(SYS_GETPID, 0, 0, 0); }
static inline void sleep_ms(long ms) { sys3(SYS_SLEEP, ms, 0, 0); }
static inline int exec(const char *name, const char *arg) { return (int)sys3(SYS_EXEC, (long)name, (long)arg, 0); }
static inline int spawn(const char *name, const char *arg) { return (int)sys3(SYS_SPAWN, (long)name, (long)arg, 0); }
static inline int wait(int pid, int *status) { return (int)sys3(SYS_WAIT, pid, (long)status, 0); }
static inline int fork(void) { return (int)sys3(SYS_FORK, 0, 0, 0); }
static inline uintptr_t virt2phys(const void *va) { return (uintptr_t)sys3(SYS_VIRT2PHYS, (long)va, 0, 0); }
static inline long sysinfo(struct sysinfo *si) { return sys3(SYS_SYSINFO, (long)si, 0, 0); }

int printf(const char *fmt, ...);

/* Runs fn(arg) and returns 0, or 1 + the vector of the exception it raised (caught by the
 * kernel through SYS_ONFAULT); fault_error and fault_cr2 then describe it. */
long try_fault(void (*fn)(void *), void *arg);
extern uint64_t fault_error, fault_cr2;
#endif
