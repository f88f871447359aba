/* abi.h: the system call interface, shared by the kernel and the user programs.
 * Call number in RAX, arguments in RDI, RSI, RDX, result in RAX (negative = error).
 * Enter with SYSCALL (RCX and R11 are clobbered) or with INT 0x80 (nothing clobbered). */
#ifndef TINYOS_ABI_H
#define TINYOS_ABI_H
#include <stdint.h>

#define SYS_WRITE 1    /* write(buf, len): to the serial console; returns len */
#define SYS_EXIT 2     /* exit(status): never returns */
#define SYS_YIELD 3    /* yield(): let the next runnable process run */
#define SYS_GETPID 4   /* getpid() */
#define SYS_SLEEP 5    /* sleep(ms): at least ms milliseconds (10 ms timer ticks) */
#define SYS_EXEC 6     /* exec(name, arg): replace this program; returns only on error */
#define SYS_SPAWN 7    /* spawn(name, arg): start a new process; returns its pid */
#define SYS_WAIT 8     /* wait(pid, &status): pid 0 = any child; returns the pid */
#define SYS_FORK 9     /* fork(): 0 in the child, the child's pid in the parent */
#define SYS_VIRT2PHYS 10 /* virt2phys(va): the physical address behind va (a teaching aid) */
#define SYS_ONFAULT 11 /* onfault(rip, rsp): on the next fault resume at rip with this rsp,
                          RDI = vector, RSI = error code, RDX = CR2 (0, 0 cancels) */
#define SYS_SYSINFO 12 /* sysinfo(&si): what the kernel put in the descriptor tables */

/* A process killed by an exception exits with status 128 + vector. */
#define STATUS_KILLED 128

struct seldesc {
  uint16_t sel;
  uint16_t pad[3];
  uint64_t desc_lo, desc_hi; /* the raw descriptor the kernel wrote (0 for the null selector) */
};

struct sysinfo {
  uint64_t gdt_base, idt_base;
  uint16_t gdt_limit, idt_limit, ldt_sel, tr_sel;
  uint16_t user_cs, user_ss, pad[2];
  uint64_t cr0;
  uint64_t user_rflags; /* what the kernel loads into RFLAGS when entering a program */
  struct seldesc sels[8]; /* the selectors redpill probes with LAR/LSL/VERR/VERW */
  int nsels;
};
#endif
