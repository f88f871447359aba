/* cpu.c: the tables and registers the CPU needs before processes can run: the GDT (with a TSS
 * and an LDT), the IDT, the SYSCALL MSRs, CR0 in a known state, and the two timer chips (the
 * 8259 PIC remapped to vectors 32-47 and the 8254 PIT at 100 Hz). redpill later asks for these
 * values (fill_sysinfo) to compare them with what user mode can see. */
#include "kernel.h"
#include "../user/abi.h"

struct tss {
  uint32_t reserved0;
  uint64_t rsp0, rsp1, rsp2; /* stack for entering ring 0 from ring 3: the process's kernel stack */
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct gate {
  uint16_t off_lo, sel;
  uint8_t ist, type_attr;
  uint16_t off_mid;
  uint32_t off_hi, reserved;
};

/* Each table on a page of its own: the "known addresses" redpill compares against. */
static uint64_t gdt[10] __attribute__((aligned(4096)));
static struct gate idt[256] __attribute__((aligned(4096)));
static uint64_t ldt[2] __attribute__((aligned(4096)));
static struct tss tss __attribute__((aligned(4096)));

#define CR0_KNOWN 0x80010033ull /* PG | WP | NE | ET | MP | PE: and nothing else */


extern const uint64_t isr_table[35];
extern char syscall_entry[];

/* A 16-byte system descriptor (TSS or LDT) in two GDT slots. */
static void sys_desc(uint64_t *slot, uint64_t base, uint32_t limit, unsigned type, unsigned dpl) {
  slot[0] = (limit & 0xFFFFull) | ((base & 0xFFFFFFull) << 16) | ((uint64_t)type << 40) |
            ((uint64_t)dpl << 45) | (1ull << 47) | ((uint64_t)(limit >> 16 & 0xF) << 48) |
            ((base >> 24 & 0xFF) << 56);
  slot[1] = base >> 32;
}

static void set_gate(int vec, uint64_t handler, int dpl) {
  struct gate *g = &idt[vec];
  g->off_lo = (uint16_t)handler;
  g->sel = SEL_KCODE;
  g->ist = 0;
  g->type_attr = (uint8_t)(0x8E | dpl << 5); /* present, 64-bit interrupt gate: IF cleared */
  g->off_mid = (uint16_t)(handler >> 16);
  g->off_hi = (uint32_t)(handler >> 32);
  g->reserved = 0;
}

static void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

uint64_t read_cr0(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}

uint64_t read_cr2(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }

struct __attribute__((packed)) tableptr {
  uint16_t limit;
  uint64_t base;
};

static void load_tables(void) {
  struct tableptr g = {sizeof gdt - 1, (uint64_t)gdt}, i = {sizeof idt - 1, (uint64_t)idt};
  __asm__ volatile("lgdt %0" ::"m"(g));
  __asm__ volatile("lidt %0" ::"m"(i));
  /* Reload CS with a far return, then the data segments. */
  __asm__ volatile("pushq %0\n\t"
                   "leaq 1f(%%rip), %%rax\n\t"
                   "pushq %%rax\n\t"
                   "lretq\n"
                   "1:\n\t"
                   "movw %1, %%ax\n\t"
                   "movw %%ax, %%ds\n\t"
                   "movw %%ax, %%es\n\t"
                   "movw %%ax, %%ss\n\t" ::"i"(SEL_KCODE),
                   "i"(SEL_KDATA)
                   : "rax", "memory");
  __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
  __asm__ volatile("lldt %w0" ::"r"(SEL_LDT));
}

static void pic_pit_init(void) {
  /* 8259: ICW1 (edge, cascade, ICW4 follows), ICW2 vector base, ICW3 wiring, ICW4 8086 mode. */
  outb(0x20, 0x11), outb(0xA0, 0x11);
  outb(0x21, 0x20), outb(0xA1, 0x28);
  outb(0x21, 0x04), outb(0xA1, 0x02);
  outb(0x21, 0x01), outb(0xA1, 0x01);
  outb(0x21, 0xFE), outb(0xA1, 0xFF); /* only IRQ 0, the PIT */
  /* 8254 channel 0, mode 2 (rate generator), low then high byte of the divisor. */
  unsigned div = (1193182 + TIMER_HZ / 2) / TIMER_HZ;
  outb(0x43, 0x34);
  outb(0x40, (uint8_t)div), outb(0x40, (uint8_t)(div >> 8));
}

void cpu_init(void) {
  /* Every code/data descriptor starts with its accessed bit set: CPUs differ in whether IRET and
   * SYSRET set it (QEMU does not, the SDM says segment loads do), and redpill must see one known
   * value everywhere. */
  gdt[0] = 0;
  gdt[1] = 0x00AF9B000000FFFFull; /* 0x08 kernel code: 64-bit (L), DPL 0 */
  gdt[2] = 0x00CF93000000FFFFull; /* 0x10 kernel data */
  gdt[3] = 0x00CFFB000000FFFFull; /* 0x18 user code, 32-bit (SYSRET's base only) */
  gdt[4] = 0x00CFF3000000FFFFull; /* 0x20 user data, DPL 3 */
  gdt[5] = 0x00AFFB000000FFFFull; /* 0x28 user code: 64-bit, DPL 3 */
  /* DPL 3 on the TSS and LDT descriptors: harmless in long mode (no task switches) and lets
   * redpill read them back with LAR/LSL from ring 3. */
  sys_desc(&gdt[6], (uint64_t)&tss, sizeof tss - 1, 0x9, 3); /* 0x30: available 64-bit TSS */
  sys_desc(&gdt[8], (uint64_t)ldt, sizeof ldt - 1, 0x2, 3);  /* 0x40: LDT */
  ldt[0] = 0x00CFF3000000FFFFull; /* LDT selector 0x07: user data */
  ldt[1] = 0x0040FB000000FFFFull; /* LDT selector 0x0F: 32-bit user code, byte granular */
  tss.iomap_base = sizeof tss;    /* no I/O bitmap: ring 3 may touch no port */

  for (int v = 0; v < 32; v++) set_gate(v, isr_table[v], 0);
  set_gate(VEC_TIMER, isr_table[32], 0);
  set_gate(VEC_SPURIOUS, isr_table[33], 0);
  set_gate(VEC_SYSCALL_INT, isr_table[34], 3); /* DPL 3: user code may INT 0x80 */
  load_tables();

  __asm__ volatile("mov %0, %%cr0" ::"r"(CR0_KNOWN));
  wrmsr(0xC0000081, (uint64_t)(SEL_UCODE32 & ~3) << 48 | (uint64_t)SEL_KCODE << 32); /* STAR */
  wrmsr(0xC0000082, (uint64_t)syscall_entry);                    /* LSTAR */
  wrmsr(0xC0000084, 0x200 | 0x100 | 0x400 | 0x40000);            /* SFMASK: IF TF DF AC */
  pic_pit_init();
}

void set_kernel_stack(uint64_t top) {
  tss.rsp0 = top;
  syscall_kstack = top;
}

void fill_sysinfo(struct sysinfo *si) {
  static const uint16_t probe[] = {0x00, SEL_KCODE, SEL_KDATA, SEL_UDATA, SEL_UCODE, SEL_TSS, SEL_LDT | 3, 0x0F};
  memset(si, 0, sizeof *si);
  si->gdt_base = (uint64_t)gdt, si->gdt_limit = sizeof gdt - 1;
  si->idt_base = (uint64_t)idt, si->idt_limit = sizeof idt - 1;
  si->ldt_sel = SEL_LDT, si->tr_sel = SEL_TSS;
  si->user_cs = SEL_UCODE, si->user_ss = SEL_UDATA;
  si->cr0 = CR0_KNOWN;
  si->user_rflags = USER_RFLAGS;
  for (int i = 0; i < 8; i++) {
    uint16_t s = probe[i];
    const uint64_t *table = (s & 4) ? ldt : gdt;
    si->sels[i].sel = s;
    if (s >= 4) {
      si->sels[i].desc_lo = table[s >> 3];
      si->sels[i].desc_hi = (s & 4) ? 0 : table[(s >> 3) + 1];
    }
  }
  si->nsels = 8;
}
