/* proc.c (tinyos32): the 64-bit kernel's proc.c with 32-bit registers; read that one's comments.
 * proc.c: processes and the scheduler. A process is a slot in procs[]: an address space (mm.c),
 * a kernel stack whose top holds its saved user registers (struct trapframe), and a state.
 * Slot 0 is the kernel itself (the shell, pid 0), which runs on the boot stack and never enters
 * user mode. Scheduling is round-robin: the timer interrupt (trap.c) calls yield() whenever it
 * interrupted user code, and a process that sleeps, waits or exits also gives the CPU away.
 * Switching is swtch (trap.asm): save the callee-saved registers on this kernel stack, load the
 * next process's kernel stack. The kernel itself is never preempted (it runs with IF = 0) except
 * in the idle loop, which enables interrupts only around HLT. */
#include "kernel.h"
#include "../user/abi.h"

#define KSTACK_SIZE 8192
#define PROG_MAGIC 0x31534F54u /* "TOS1": the header crt0.asm puts first in every program */

struct proghdr {
  uint32_t magic, text_end, file_end, bss_end;
  uint32_t entry, entry_hi;
};

struct proc procs[NPROC];
struct proc *current;
volatile uint64_t ticks;
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static int next_pid = 1;

extern char trap_return[];
void swtch(uintptr_t *save_esp, uintptr_t new_esp);

static uintptr_t kstack_top(struct proc *p) { return (uintptr_t)kstacks[p - procs] + KSTACK_SIZE; }

void proc_init(void) {
  current = &procs[0];
  current->pid = 0;
  current->state = RUNNING;
  current->pgdir = kernel_pgdir;
  strcpy(current->name, "kernel");
}

const struct program *find_program(const char *name) {
  for (const struct program *p = programs_table; p->name; p++)
    if (!strcmp(p->name, name)) return p;
  return 0;
}

/* Builds prog's pages in a fresh address space and fills tf to start it with arg (a string
 * copied to the top of the user stack, its address in RDI). Returns the PML4, or 0. */
static uintptr_t load(const struct program *prog, const char *arg, struct trapframe *tf) {
  const struct proghdr *h = (const struct proghdr *)prog->start;
  uintptr_t size = (uintptr_t)(prog->end - prog->start);
  if (size < sizeof *h || h->magic != PROG_MAGIC || h->bss_end > USER_STACK_TOP - USER_STACK_PAGES * PAGE)
    return 0;
  uintptr_t pgdir = as_create();
  /* Text and read-only data read-only, the rest (data, bss) writable; no page is executable-only:
   * without EFER.NXE everything mapped can be executed, which smc's JIT relies on. */
  for (uintptr_t va = USER_BASE; va < h->bss_end; va += PAGE) {
    uintptr_t pa = as_alloc(pgdir, va, va >= h->text_end);
    if (!pa) goto fail;
    uintptr_t off = va - USER_BASE;
    if (off < size) memcpy((void *)pa, prog->start + off, size - off < PAGE ? size - off : PAGE);
  }
  uintptr_t top = 0;
  for (uintptr_t va = USER_STACK_TOP - USER_STACK_PAGES * PAGE; va < USER_STACK_TOP; va += PAGE)
    if (!(top = as_alloc(pgdir, va, 1))) goto fail;
  /* top = physical address of the highest stack page: put the argument string there. */
  size_t n = strlen(arg);
  if (n > 200) n = 200;
  memcpy((void *)(top + PAGE - 256), arg, n);
  memset(tf, 0, sizeof *tf);
  tf->eip = h->entry;
  tf->cs = SEL_UCODE;
  tf->ss = SEL_UDATA;
  tf->eflags = USER_RFLAGS;
  tf->ebx = USER_STACK_TOP - 256; /* crt0 passes it to main (not EAX: exec's result goes there) */
  tf->esp = USER_STACK_TOP - 256 - 16;
  return pgdir;
fail:
  as_destroy(pgdir);
  return 0;
}

static struct proc *alloc_slot(void) {
  for (int i = 1; i < NPROC; i++)
    if (procs[i].state == UNUSED) {
      struct proc *p = &procs[i];
      memset(p, 0, sizeof *p);
      p->pid = next_pid++;
      /* The trap frame sits at the top of the kernel stack; below it, what swtch pops the first
       * time: four callee-saved registers (zero) and the address it "returns" to. */
      p->tf = (struct trapframe *)(kstack_top(p) - sizeof(struct trapframe));
      uintptr_t *sp = (uintptr_t *)p->tf;
      *--sp = (uintptr_t)trap_return;
      for (int r = 0; r < 4; r++) *--sp = 0;
      p->ksp = (uintptr_t)sp;
      return p;
    }
  return 0;
}

int proc_spawn(const char *name, const char *arg, int parent) {
  const struct program *prog = find_program(name);
  struct proc *p;
  if (!prog || !(p = alloc_slot())) return -1;
  if (!(p->pgdir = load(prog, arg, p->tf))) {
    p->state = UNUSED;
    return -1;
  }
  strcpy(p->name, prog->name);
  p->parent = parent;
  p->state = RUNNABLE;
  return p->pid;
}

int proc_exec(struct trapframe *tf, const char *name, const char *arg) {
  const struct program *prog = find_program(name);
  uintptr_t pgdir, old = current->pgdir;
  if (!prog || !(pgdir = load(prog, arg, tf))) return -1;
  current->pgdir = pgdir;
  write_cr3(pgdir); /* leave the old address space before freeing it */
  as_destroy(old);
  strcpy(current->name, prog->name);
  current->onfault_eip = 0;
  return 0;
}

int proc_fork(struct trapframe *tf) {
  struct proc *p = alloc_slot();
  if (!p) return -1;
  p->pgdir = as_copy(current->pgdir);
  *p->tf = *tf;
  p->tf->eax = 0; /* fork returns 0 in the child */
  strcpy(p->name, current->name);
  p->parent = current->pid;
  p->state = RUNNABLE;
  return p->pid;
}

/* Gives the CPU to the next RUNNABLE process after current, in slot order; current itself comes
 * last. With nothing to run, waits for an interrupt (the timer wakes sleepers). */
static void schedule(void) {
  struct proc *next = 0;
  for (;;) {
    for (int i = 1; i <= NPROC && !next; i++) {
      struct proc *p = &procs[(current - procs + i) % NPROC];
      if (p->state == RUNNABLE) next = p;
    }
    if (next) break;
    __asm__ volatile("sti; hlt; cli" ::: "memory");
  }
  next->state = RUNNING;
  if (next == current) return;
  struct proc *prev = current;
  current = next;
  set_kernel_stack(kstack_top(next));
  write_cr3(next->pgdir);
  swtch(&prev->ksp, next->ksp);
}

void yield(void) {
  current->state = RUNNABLE;
  schedule();
}

void proc_sleep(uint32_t n) {
  current->wake = ticks + n;
  current->state = SLEEPING;
  schedule();
}

void timer_tick(void) {
  ticks++;
  for (int i = 0; i < NPROC; i++)
    if (procs[i].state == SLEEPING && procs[i].wake <= ticks) procs[i].state = RUNNABLE;
}

void proc_exit(int status) {
  struct proc *p = current;
  p->status = status;
  p->state = ZOMBIE;
  for (int i = 1; i < NPROC; i++) /* orphans go to the kernel, which reaps them */
    if (procs[i].state != UNUSED && procs[i].parent == p->pid) procs[i].parent = 0;
  struct proc *parent = 0;
  for (int i = 0; i < NPROC; i++)
    if (procs[i].state != UNUSED && procs[i].pid == p->parent) parent = &procs[i];
  if (parent && parent->state == WAITING && (parent->waitfor == 0 || parent->waitfor == p->pid))
    parent->state = RUNNABLE;
  schedule(); /* never comes back: nobody schedules a ZOMBIE */
  kpanic("zombie ran");
}

int proc_wait(int pid, int *status) {
  for (;;) {
    int have = 0;
    for (int i = 1; i < NPROC; i++) {
      struct proc *p = &procs[i];
      if (p->state == UNUSED || p->parent != current->pid || (pid && p->pid != pid)) continue;
      have = 1;
      if (p->state == ZOMBIE) {
        /* Reap: its address space goes back to the free pages (its kernel stack is static). */
        int found = p->pid;
        if (status) *status = p->status;
        as_destroy(p->pgdir);
        p->state = UNUSED;
        return found;
      }
    }
    if (!have) return -1;
    current->waitfor = pid;
    current->state = WAITING;
    schedule();
  }
}
