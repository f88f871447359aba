/* kernel.h (tinyos32): the 32-bit protected-mode twin of ../kernel/kernel.h. Same design, same
 * programs and system calls; what differs: 32-bit paging (one page directory per process, the
 * kernel's 0..1 GiB mapped with 4 MiB pages in each), a 32-bit trap frame, and SYSENTER/SYSEXIT
 * instead of SYSCALL/SYSRET (which 32-bit Intel CPUs do not have). */
#ifndef TINYOS_KERNEL_H
#define TINYOS_KERNEL_H
#include "../lib/lib.h"

/* ---- memory layout (docs/tinyos.md draws it) ---- */
#define PAGE 4096u
#define KERNEL_MAP_END 0x40000000u /* 0..1 GiB identity-mapped, supervisor only, in every space */
#define FRAMES_START 0x00400000u   /* physical pages handed to processes come from here... */
#define FRAMES_END 0x02000000u     /* ...to 32 MiB (the machine has at least that) */
#define USER_BASE 0x40000000u      /* every program is linked and loaded here */
#define USER_STACK_TOP 0x80000000u /* the user stack grows down from here */
#define USER_STACK_PAGES 4

/* ---- GDT selectors; the order is what SYSCALL/SYSRET require (STAR) ---- */
#define SEL_KCODE 0x08 /* 32-bit code, DPL 0 (IA32_SYSENTER_CS) */
#define SEL_KDATA 0x10 /* data, DPL 0 (SYSENTER_CS + 8) */
#define SEL_UCODE 0x1B /* 32-bit code, DPL 3 (SYSENTER_CS + 16: what SYSEXIT loads) */
#define SEL_UDATA 0x23 /* data, DPL 3 (SYSENTER_CS + 24) */
#define SEL_TSS 0x28   /* 32-bit TSS */
#define SEL_LDT 0x30   /* an LDT with two entries, only for redpill to look at */

/* ---- interrupt vectors ---- */
#define VEC_TIMER 32    /* PIC IRQ 0 remapped to 32 */
#define VEC_SPURIOUS 39 /* PIC IRQ 7: may fire spuriously, ignored */
#define VEC_SYSCALL_INT 0x80
#define VEC_SYSCALL 0x100 /* not a real vector: marks frames built by the SYSENTER entry */

#define TIMER_HZ 100
#define USER_RFLAGS 0x202u /* IF = 1, IOPL = 0 (bit 1 is always set): how programs start */

/* What the assembly stubs push, lowest address first (trap.asm builds it). The system call
 * arguments are EBX, ECX, EDX (as Linux's int 0x80); SYSENTER callers pass their return EIP in
 * ESI and ESP in EBP, since SYSENTER saves neither. */
struct trapframe {
  uint32_t edi, esi, ebp, esp_pushad, ebx, edx, ecx, eax; /* PUSHAD order */
  uint32_t vector, error;
  uint32_t eip, cs, eflags, esp, ss; /* pushed by the CPU (or by the SYSENTER stub) */
};

/* ---- processes ---- */
#define NPROC 16
enum { UNUSED, RUNNABLE, RUNNING, SLEEPING, WAITING, ZOMBIE };

struct proc {
  int pid, state, parent, status;
  char name[16];
  uintptr_t pgdir;    /* physical address of the page directory (CR3) */
  uintptr_t ksp;      /* saved kernel stack pointer while switched out (swtch) */
  struct trapframe *tf; /* the user registers, at the top of the kernel stack */
  uint64_t wake;      /* SLEEPING: the tick to wake at */
  int waitfor;       /* WAITING: the child pid (0 = any) */
  uintptr_t onfault_eip, onfault_esp; /* a one-shot fault handler (redpill uses it) */
};

extern struct proc procs[NPROC];
extern struct proc *current;
extern volatile uint64_t ticks;

/* console.c */
void uart_init(void);
void uart_putc(char c);
int uart_getc(void); /* -1 when nothing has arrived */
void kwrite(const char *s, size_t n);
void kprintf(const char *fmt, ...);

/* cpu.c: descriptor tables, MSRs, the PIC and the PIT */
void cpu_init(void);
void set_kernel_stack(uintptr_t top);
uint32_t read_cr0(void), read_cr2(void);
void write_cr3(uintptr_t v);
struct sysinfo;
void fill_sysinfo(struct sysinfo *si);
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

/* mm.c: physical pages and address spaces */
void mm_init(void);
uintptr_t page_alloc(void); /* zeroed; 0 when none is left */
void page_free(uintptr_t pa);
uint64_t pages_free(void);
uintptr_t as_create(void); /* a new page directory sharing the kernel map */
uintptr_t as_alloc(uintptr_t pgdir, uintptr_t va, int writable); /* the new page, or 0 */
uintptr_t as_lookup(uintptr_t pgdir, uintptr_t va); /* physical address, or 0 when unmapped */
uintptr_t as_copy(uintptr_t pgdir);    /* fork: a full copy of the user half */
void as_free_user(uintptr_t pgdir);   /* frees every user page and user page table */
void as_destroy(uintptr_t pgdir);
int user_ok(uintptr_t va, uintptr_t n, int write); /* may the current process hand us this range? */
extern uintptr_t kernel_pgdir;

/* proc.c: processes and the round-robin scheduler */
void proc_init(void);
int proc_spawn(const char *name, const char *arg, int parent); /* pid, or -1 */
int proc_exec(struct trapframe *tf, const char *name, const char *arg);
int proc_fork(struct trapframe *tf);
void proc_exit(int status);
int proc_wait(int pid, int *status);
void proc_sleep(uint32_t ticks);
void yield(void);
void timer_tick(void);

/* programs.asm: the embedded user programs */
struct program {
  const char *name;
  const uint8_t *start, *end;
};
const struct program *find_program(const char *name);
extern const struct program programs_table[];

/* trap.c */
void trap(struct trapframe *tf);


/* main.c */
void kpanic(const char *msg);
#endif
