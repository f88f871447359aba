/* main.c: kmain and the shell. kmain sets the machine up (console, memory, CPU tables, timer,
 * process table), then runs the commands of the multiboot command line and leaves through the
 * isa-debug-exit port; with an empty command line it reads commands from the serial console.
 * The kernel (pid 0) runs every program as its child and waits for it, so demos run one at a
 * time unless a program starts others itself.
 * tinyos32 compiles this same file (k32/main.c includes it): only the banner differs. */
#include "kernel.h"
#include "../user/abi.h"

#ifdef __x86_64__
#define BANNER "tinyos: 64-bit teaching kernel"
#else
#define BANNER "tinyos32: 32-bit teaching kernel"
#endif

#define EXIT_PORT 0xF4
#define EXIT_DONE 0x10  /* host status 33: the commands ran */
#define EXIT_PANIC 0x02 /* host status 5: kpanic */

struct multiboot_info {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

static void leave(uint8_t code) {
  outb(EXIT_PORT, code);
  for (;;) __asm__ volatile("cli; hlt"); /* only if nothing listens on the port */
}

void kpanic(const char *msg) {
  kprintf("tinyos: panic: %s\n", msg);
  leave(EXIT_PANIC);
}

/* Runs one program as a child of the kernel and waits for it and anything it left behind. */
static void run_program(const char *name, const char *arg) {
  int pid = proc_spawn(name, arg, 0), status = 0;
  if (pid < 0) {
    kprintf("tinyos: no program '%s' (try 'help')\n", name);
    return;
  }
  while (proc_wait(pid, &status) < 0) {
  }
  kprintf("tinyos: %s exited with status %d\n", name, status);
  while (proc_wait(0, 0) > 0) { /* orphans */
  }
}

static const char *skip_spaces(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* Copies the next word of *s into w (at most n-1 characters) and advances *s past it. */
static int next_word(const char **s, char *w, int n) {
  const char *p = skip_spaces(*s);
  int len = 0;
  while (*p && *p != ' ' && *p != '\t') {
    if (len < n - 1) w[len++] = *p;
    p++;
  }
  w[len] = 0;
  *s = p;
  return len;
}

static void tour(void) {
  static const char *const steps[][2] = {
      {"redpill", ""}, {"procs", ""}, {"smc", ""}, {"faults", ""}, {"bench", "1"}};
  for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    kprintf("=== tour: %s %s\n", steps[i][0], steps[i][1]);
    run_program(steps[i][0], steps[i][1]);
  }
  kprintf("=== tour: done\n");
}

static void help(void) {
  kprintf("commands: run PROG [PROG...] | PROG [ARG] | tour | help | exit\n"
          "programs:");
  for (const struct program *p = programs_table; p->name; p++) kprintf(" %s", p->name);
  kprintf("\n");
}

/* One command (no ';' in it). Returns 0 when the command was "exit". */
static int command(const char *line) {
  char w[16];
  const char *s = line;
  if (!next_word(&s, w, sizeof w)) return 1;
  if (!strcmp(w, "exit")) return 0;
  if (!strcmp(w, "help")) help();
  else if (!strcmp(w, "tour")) tour();
  else if (!strcmp(w, "run"))
    while (next_word(&s, w, sizeof w)) run_program(w, "");
  else run_program(w, skip_spaces(s));
  return 1;
}

/* Commands separated by ';'. Returns 0 after "exit". */
static int commands(const char *line) {
  char one[128];
  while (*line) {
    int n = 0;
    while (*line && *line != ';') {
      if (n < (int)sizeof one - 1) one[n++] = *line;
      line++;
    }
    one[n] = 0;
    if (*line) line++;
    if (!command(one)) return 0;
  }
  return 1;
}

static int read_line(char *buf, int n) {
  int len = 0;
  for (;;) {
    int c = uart_getc();
    if (c < 0) {
      __asm__ volatile("sti; hlt; cli"); /* the timer wakes us 100 times a second */
      continue;
    }
    if (c == '\r' || c == '\n') {
      uart_putc('\n');
      buf[len] = 0;
      return len;
    }
    if ((c == 8 || c == 127) && len) {
      len--;
      kwrite("\b \b", 3);
    } else if (c >= ' ' && len < n - 1) {
      buf[len++] = (char)c;
      uart_putc((char)c);
    }
  }
}

void kmain(struct multiboot_info *mbi) {
  uart_init();
  mm_init();
  cpu_init();
  proc_init();
  kprintf(BANNER ", %lu free pages, timer %d Hz\n", pages_free(), TIMER_HZ);

  /* The command line starts with the image name: skip that word. */
  const char *cmd = "";
  if (mbi->flags & 4) {
    char first[64];
    cmd = (const char *)(uintptr_t)mbi->cmdline;
    next_word(&cmd, first, sizeof first);
    cmd = skip_spaces(cmd);
  }
  if (*cmd) {
    kprintf("tinyos: command line: %s\n", cmd);
    commands(cmd);
    leave(EXIT_DONE);
  }
  help();
  char line[128];
  do {
    kprintf("tinyos> ");
    read_line(line, sizeof line);
  } while (commands(line));
  leave(EXIT_DONE);
}
