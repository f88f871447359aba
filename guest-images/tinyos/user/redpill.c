/* redpill: can user code tell that it runs under a virtual machine monitor? It runs, in ring 3,
 * the instructions that read system state without being privileged (SIDT, SGDT, SLDT, STR,
 * SMSW), PUSHF, moves from CS and SS, and LAR/LSL/VERR/VERW on known selectors, and compares each
 * with what the kernel set (SYS_SYSINFO). On a real CPU they all agree; a monitor that leaks its
 * own tables, or makes them fault (UMIP), is visible. Each probe runs under try_fault, so a probe
 * that faults is reported rather than killing the program. Output, one line per probe:
 *   redpill: NAME observed... expected ... ok|DIFFERENT
 * then the verdict line. The field names are stable: tools parse them. */
#include "ulib.h"

static struct sysinfo si;
static int differ, probes;

struct __attribute__((packed)) tableptr {
  uint16_t limit;
  uintptr_t base; /* SIDT/SGDT store 8 bytes of base in 64-bit mode, 4 in 32-bit mode */
};
static struct tableptr tp;
static uint16_t sel16;
static unsigned long flags;

static void do_sidt(void *a) { (void)a; __asm__ volatile("sidt %0" : "=m"(tp)); }
static void do_sgdt(void *a) { (void)a; __asm__ volatile("sgdt %0" : "=m"(tp)); }
static void do_sldt(void *a) { (void)a; __asm__ volatile("sldt %0" : "=m"(sel16)); }
static void do_str(void *a) { (void)a; __asm__ volatile("str %0" : "=m"(sel16)); }
static void do_smsw(void *a) { (void)a; __asm__ volatile("smsw %0" : "=m"(sel16)); }
static void do_pushf(void *a) { (void)a; __asm__ volatile("pushf; pop %0" : "=r"(flags)); }
static void do_cs(void *a) { (void)a; __asm__ volatile("mov %%cs, %0" : "=r"(sel16)); }
static void do_ss(void *a) { (void)a; __asm__ volatile("mov %%ss, %0" : "=r"(sel16)); }

static void verdict_of(int same) {
  probes++;
  if (!same) differ++;
  printf(" %s\n", same ? "ok" : "DIFFERENT");
}

/* Runs fn; on a fault prints it (as the observation) and returns 0. */
static int probe(const char *name, void (*fn)(void *)) {
  long v = try_fault(fn, 0);
  if (v) {
    printf("redpill: %s fault vector=%d error=0x%lx", name, (int)(v - 1), fault_error);
    return 0;
  }
  printf("redpill: %s", name);
  return 1;
}

static void table_probe(const char *name, void (*fn)(void *), uint64_t base, uint16_t limit) {
  tp.base = 0, tp.limit = 0;
  int ran = probe(name, fn);
  if (ran) printf(" base=0x%lx limit=0x%x", (uint64_t)tp.base, tp.limit);
  printf(" expected base=0x%lx limit=0x%x", base, limit);
  verdict_of(ran && tp.base == base && tp.limit == limit);
}

static void sel_probe(const char *name, const char *field, void (*fn)(void *), uint16_t want, uint16_t mask) {
  sel16 = 0;
  int ran = probe(name, fn);
  if (ran) printf(" %s=0x%04x", field, sel16 & mask);
  printf(" expected %s=0x%04x", field, want & mask);
  verdict_of(ran && (sel16 & mask) == (want & mask));
}

/* ---- LAR, LSL, VERR, VERW: what they must give at CPL 3 (Intel SDM vol. 2, LAR/LSL/VERR) ---- */
enum { LAR, LSL, VERR, VERW };
static const char *const opname[] = {"LAR", "LSL", "VERR", "VERW"};

static int expect(const struct seldesc *s, int op, uint32_t *value) {
  uint64_t d = s->desc_lo;
  unsigned rpl = s->sel & 3, dpl = d >> 45 & 3, type = d >> 40 & 15, code_data = d >> 44 & 1;
  *value = 0;
  if ((s->sel & ~3) == 0) return 0;               /* the null selector */
  if (!code_data) {                               /* system: 64-bit TSS (9, 11) and LDT (2) */
    if (op >= VERR || (type != 2 && type != 9 && type != 11)) return 0;
  }
  int conforming = code_data && (type & 12) == 12;
  if (!conforming && (dpl < 3 || dpl < rpl)) return 0; /* CPL = 3 */
  if (op == VERR && code_data && (type & 8) && !(type & 2)) return 0; /* execute-only code */
  if (op == VERW && (!code_data || (type & 8) || !(type & 2))) return 0; /* writable data only */
  uint32_t limit = (uint32_t)(d & 0xFFFF) | (uint32_t)(d >> 32 & 0xF0000);
  if (op == LAR) *value = (uint32_t)(d >> 32) & 0x00F0FF00;
  if (op == LSL) *value = (d >> 55 & 1) ? limit << 12 | 0xFFF : limit;
  return 1;
}

static void access_probe(const struct seldesc *s, int op) {
  uint32_t v = 0, sel = s->sel, want;
  uint8_t zf = 0;
  switch (op) {
  case LAR: __asm__ volatile("lar %2, %0; setz %1" : "+r"(v), "=q"(zf) : "r"(sel) : "cc"); break;
  case LSL: __asm__ volatile("lsl %2, %0; setz %1" : "+r"(v), "=q"(zf) : "r"(sel) : "cc"); break;
  case VERR: __asm__ volatile("verr %w1; setz %0" : "=q"(zf) : "r"(sel) : "cc"); break;
  case VERW: __asm__ volatile("verw %w1; setz %0" : "=q"(zf) : "r"(sel) : "cc"); break;
  }
  int wzf = expect(s, op, &want);
  printf("redpill: %s sel=0x%04x zf=%d", opname[op], sel, zf);
  if (op <= LSL) printf(" value=0x%08x", v);
  printf(" expected zf=%d", wzf);
  if (op <= LSL) printf(" value=0x%08x", want);
  verdict_of(zf == wzf && v == want);
}

int main(const char *arg) {
  (void)arg;
  sysinfo(&si);
  table_probe("SIDT", do_sidt, si.idt_base, si.idt_limit);
  table_probe("SGDT", do_sgdt, si.gdt_base, si.gdt_limit);
  sel_probe("SLDT", "sel", do_sldt, si.ldt_sel, 0xFFFF);
  sel_probe("STR", "sel", do_str, si.tr_sel, 0xFFFF);
  sel_probe("SMSW", "msw", do_smsw, (uint16_t)si.cr0, 0xFFFF);
  probe("PUSHF", do_pushf);
  printf(" if=%d iopl=%d expected if=%d iopl=%d", (int)(flags >> 9 & 1), (int)(flags >> 12 & 3),
         (int)(si.user_rflags >> 9 & 1), (int)(si.user_rflags >> 12 & 3));
  verdict_of((flags & 0x3200) == (si.user_rflags & 0x3200));
  sel_probe("MOVCS", "sel", do_cs, si.user_cs, 0xFFFF);
  sel_probe("MOVSS", "sel", do_ss, si.user_ss, 0xFFFF);
  for (int i = 0; i < si.nsels; i++)
    for (int op = LAR; op <= VERW; op++) access_probe(&si.sels[i], op);
  printf("redpill: verdict: virtualization %s (%d of %d probes differ)\n", differ ? "visible" : "not visible",
         differ, probes);
  return differ;
}
