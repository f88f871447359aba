/* kernel.h: everything the kernel's C files share: the memory layout, the segment selectors,
 * the trap frame the assembly stubs build, the process table, and each file's functions. Read
 * this first: the rest of the kernel is the implementation of what is declared here. */
#ifndef TINYOS_KERNEL_H
#define TINYOS_KERNEL_H
#include "../lib/lib.h"

/* ---- memory layout (docs/tinyos.md draws it) ---- */
#define PAGE 4096ull
#define KERNEL_MAP_END 0x40000000ull /* 0..1 GiB identity-mapped, supervisor only, in every space */
#define FRAMES_START 0x00400000ull   /* physical pages handed to processes come from here... */
#define FRAMES_END 0x02000000ull     /* ...to 32 MiB (the machine has at least that) */
#define USER_BASE 0x40000000ull      /* every program is linked and loaded here */
#define USER_STACK_TOP 0x80000000ull /* the user stack grows down from here */
#define USER_STACK_PAGES 4

/* ---- GDT selectors; the order is what SYSCALL/SYSRET require (STAR) ---- */
#define SEL_KCODE 0x08 /* 64-bit code, DPL 0 */
#define SEL_KDATA 0x10 /* data, DPL 0 */
#define SEL_UCODE32 0x1B /* 32-bit code, DPL 3 (only SYSRET's base: never loaded) */
#define SEL_UDATA 0x23 /* data, DPL 3 */
#define SEL_UCODE 0x2B /* 64-bit code, DPL 3 */
#define SEL_TSS 0x30   /* 64-bit TSS (16-byte descriptor) */
#define SEL_LDT 0x40   /* an LDT with two entries, only for redpill to look at */

/* ---- interrupt vectors ---- */
#define VEC_TIMER 32    /* PIC IRQ 0 remapped to 32 */
#define VEC_SPURIOUS 39 /* PIC IRQ 7: may fire spuriously, ignored */
#define VEC_SYSCALL_INT 0x80
#define VEC_SYSCALL 0x100 /* not a real vector: marks frames built by the SYSCALL entry */

#define TIMER_HZ 100
#define USER_RFLAGS 0x202ull /* IF = 1, IOPL = 0 (bit 1 is always set): how programs start */

/* What the assembly stubs push, lowest address first (trap.asm builds it). */
struct trapframe {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU (or by the SYSCALL stub) */
};

/* ---- processes ---- */
#define NPROC 16
enum { UNUSED, RUNNABLE, RUNNING, SLEEPING, WAITING, ZOMBIE };

struct proc {
  int pid, state, parent, status;
  char name[16];
  uint64_t pml4;     /* physical address of the top page table (CR3) */
  uint64_t ksp;      /* saved kernel stack pointer while switched out (swtch) */
  struct trapframe *tf; /* the user registers, at the top of the kernel stack */
  uint64_t wake;     /* SLEEPING: the tick to wake at */
  int waitfor;       /* WAITING: the child pid (0 = any) */
  uint64_t onfault_rip, onfault_rsp; /* a one-shot fault handler (redpill uses it) */
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
void set_kernel_stack(uint64_t top);
uint64_t read_cr0(void), read_cr2(void);
void write_cr3(uint64_t v);
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
uint64_t page_alloc(void); /* zeroed; 0 when none is left */
void page_free(uint64_t pa);
uint64_t pages_free(void);
uint64_t as_create(void); /* a new PML4 sharing the kernel map */
uint64_t as_alloc(uint64_t pml4, uint64_t va, int writable); /* the new page, or 0 */
uint64_t as_lookup(uint64_t pml4, uint64_t va); /* physical address, or 0 when unmapped */
uint64_t as_copy(uint64_t pml4);    /* fork: a full copy of the user half */
void as_free_user(uint64_t pml4);   /* frees every user page and user page table */
void as_destroy(uint64_t pml4);
int user_ok(uint64_t va, uint64_t n, int write); /* may the current process hand us this range? */
extern uint64_t kernel_pml4;

/* proc.c: processes and the round-robin scheduler */
void proc_init(void);
int proc_spawn(const char *name, const char *arg, int parent); /* pid, or -1 */
int proc_exec(struct trapframe *tf, const char *name, const char *arg);
int proc_fork(struct trapframe *tf);
void proc_exit(int status);
int proc_wait(int pid, int *status);
void proc_sleep(uint64_t ticks);
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
extern uint64_t syscall_kstack; /* trap.asm reads it on SYSCALL */

/* main.c */
void kpanic(const char *msg);
#endif
