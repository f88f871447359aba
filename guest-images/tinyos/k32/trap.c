/* trap.c (tinyos32): the 64-bit kernel's trap.c with 32-bit registers: system call number in
 * EAX, arguments in EBX, ECX, EDX; entered by SYSENTER or INT 0x80.
 * trap.c: what the kernel does when it is entered (trap.asm calls trap() with the saved user
 * registers): the timer interrupt (EOI, wake sleepers, preempt user code), the system calls (from
 * SYSCALL or INT 0x80, same numbers: user/abi.h), and exceptions. An exception in user mode is
 * reported with its vector, error code and CR2 and kills the process (status 128 + vector),
 * unless the process asked to catch the next one (SYS_ONFAULT, used by redpill). An exception in
 * the kernel is a bug: it is reported and the machine stops. */
#include "kernel.h"
#include "../user/abi.h"

static const char *const exc_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM no FPU", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection"};

/* Copies a user string into buf (at most n-1 characters); -1 if it is not all mapped. */
static int user_string(char *buf, int n, uintptr_t va) {
  for (int i = 0; i < n - 1; i++, va++) {
    if (!user_ok(va, 1, 0)) return -1;
    buf[i] = *(const char *)as_lookup(current->pgdir, va);
    if (!buf[i]) return 0;
  }
  buf[n - 1] = 0;
  return 0;
}

static int32_t syscall(struct trapframe *tf) {
  uintptr_t a = tf->ebx, b = tf->ecx;
  char name[16], arg[200];
  switch (tf->eax) {
  case SYS_WRITE:
    /* The whole write goes out with interrupts off: lines of different processes never mix. */
    if (!user_ok(a, b, 0)) return -1;
    for (uintptr_t i = 0; i < b; i++) uart_putc(*(const char *)as_lookup(current->pgdir, a + i));
    return (int32_t)b;
  case SYS_EXIT:
    proc_exit((int)a);
    return 0;
  case SYS_YIELD:
    yield();
    return 0;
  case SYS_GETPID:
    return current->pid;
  case SYS_SLEEP:
    proc_sleep(a / (1000 / TIMER_HZ) + 1);
    return 0;
  case SYS_EXEC:
  case SYS_SPAWN:
    if (user_string(name, sizeof name, a) || user_string(arg, sizeof arg, b)) return -1;
    if (tf->eax == SYS_SPAWN) return proc_spawn(name, arg, current->pid);
    return proc_exec(tf, name, arg); /* on success tf now starts the new program */
  case SYS_WAIT: {
    int status = 0, pid = proc_wait((int)a, &status);
    if (pid > 0 && b) {
      if (!user_ok(b, 4, 1)) return -1;
      *(int *)as_lookup(current->pgdir, b) = status;
    }
    return pid;
  }
  case SYS_FORK:
    return proc_fork(tf);
  case SYS_VIRT2PHYS:
    return user_ok(a, 1, 0) ? (int32_t)as_lookup(current->pgdir, a) : -1;
  case SYS_ONFAULT:
    current->onfault_eip = a, current->onfault_esp = b;
    return 0;
  case SYS_SYSINFO: {
    struct sysinfo si;
    if (!user_ok(a, sizeof si, 1)) return -1;
    fill_sysinfo(&si);
    for (uintptr_t i = 0; i < sizeof si; i++) *(char *)as_lookup(current->pgdir, a + i) = ((char *)&si)[i];
    return 0;
  }
  }
  return -1;
}

static void exception(struct trapframe *tf) {
  uint32_t cr2 = tf->vector == 14 ? read_cr2() : 0;
  const char *what = exc_names[tf->vector] ? exc_names[tf->vector] : "reserved";
  if ((tf->cs & 3) == 0) {
    kprintf("tinyos: kernel exception %s (vector %u) error 0x%x cr2=0x%x eip=0x%x\n", what,
            tf->vector, tf->error, cr2, tf->eip);
    kpanic("exception in the kernel");
  }
  if (current->onfault_eip) {
    /* Resume where the process asked, with the fault's description in EAX, EDX, ECX. */
    tf->eip = current->onfault_eip;
    tf->esp = current->onfault_esp;
    tf->eax = tf->vector, tf->edx = tf->error, tf->ecx = cr2;
    current->onfault_eip = 0;
    tf->vector = 0; /* return with IRETQ */
    return;
  }
  kprintf("tinyos: pid %d (%s) killed: %s (vector %u) error 0x%x cr2=0x%x eip=0x%x\n",
          current->pid, current->name, what, tf->vector, tf->error, cr2, tf->eip);
  proc_exit(STATUS_KILLED + (int)tf->vector);
}

void trap(struct trapframe *tf) {
  switch (tf->vector) {
  case VEC_TIMER:
    outb(0x20, 0x20); /* EOI to the PIC first: we may switch away below */
    timer_tick();
    if ((tf->cs & 3) == 3) yield(); /* preempt user code only; the kernel is not preemptible */
    return;
  case VEC_SPURIOUS:
    return; /* no EOI for a spurious IRQ 7 */
  case VEC_SYSCALL:
  case VEC_SYSCALL_INT:
    tf->eax = (uintptr_t)syscall(tf);
    return;
  }
  if (tf->vector < 32) exception(tf);
}
