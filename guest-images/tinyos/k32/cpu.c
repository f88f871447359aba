/* cpu.c (tinyos32): the GDT (with a 32-bit TSS and an LDT), the IDT, the SYSENTER MSRs, CR0 in a
 * known state, and the PIC and PIT, as ../kernel/cpu.c does for the 64-bit kernel. redpill asks
 * for these values (fill_sysinfo) to compare them with what ring 3 can see. */
#include "kernel.h"
#include "../user/abi.h"

struct tss {
  uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, es, cs, ss, ds, fs, gs, ldt;
  uint16_t trap, iomap_base;
};

struct gate {
  uint16_t off_lo, sel;
  uint8_t zero, type_attr;
  uint16_t off_hi;
};

/* Each table on a page of its own: the "known addresses" redpill compares against. */
static uint64_t gdt[7] __attribute__((aligned(4096)));
static struct gate idt[256] __attribute__((aligned(4096)));
static uint64_t ldt[2] __attribute__((aligned(4096)));
static struct tss tss __attribute__((aligned(4096)));

#define CR0_KNOWN 0x80010033u /* PG | WP | NE | ET | MP | PE: and nothing else */

extern const uint32_t isr_table[35];
extern char sysenter_entry[];

/* type: the 5 bits S:TYPE (0x1B = code, execute/read, accessed; 0x13 = data, read/write,
 * accessed; 0x09 = 32-bit TSS; 0x02 = LDT). flags: G, D/B, L, AVL. */
static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, unsigned flags) {
  return (limit & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)type << 40) |
         ((uint64_t)dpl << 45) | (1ull << 47) | ((uint64_t)(limit >> 16 & 0xF) << 48) |
         ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void set_gate(int vec, uint32_t handler, int dpl) {
  struct gate *g = &idt[vec];
  g->off_lo = (uint16_t)handler;
  g->sel = SEL_KCODE;
  g->zero = 0;
  g->type_attr = (uint8_t)(0x8E | dpl << 5); /* present, 32-bit interrupt gate: IF cleared */
  g->off_hi = (uint16_t)(handler >> 16);
}

static void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

uint32_t read_cr0(void) {
  uint32_t v;
  __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}

uint32_t read_cr2(void) {
  uint32_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

void write_cr3(uintptr_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }

struct __attribute__((packed)) tableptr {
  uint16_t limit;
  uint32_t base;
};

static void load_tables(void) {
  struct tableptr g = {sizeof gdt - 1, (uint32_t)gdt}, i = {sizeof idt - 1, (uint32_t)idt};
  __asm__ volatile("lgdt %0" ::"m"(g));
  __asm__ volatile("lidt %0" ::"m"(i));
  /* CS with a far jump; SS the kernel's; DS and ES the user data segment (see trap.asm). */
  __asm__ volatile("ljmp %0, $1f\n"
                   "1:\n\t"
                   "movw %1, %%ax\n\t"
                   "movw %%ax, %%ss\n\t"
                   "movw %2, %%ax\n\t"
                   "movw %%ax, %%ds\n\t"
                   "movw %%ax, %%es\n\t"
                   "xorw %%ax, %%ax\n\t"
                   "movw %%ax, %%fs\n\t"
                   "movw %%ax, %%gs\n\t" ::"i"(SEL_KCODE),
                   "i"(SEL_KDATA), "i"(SEL_UDATA)
                   : "eax", "memory");
  __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
  __asm__ volatile("lldt %w0" ::"r"(SEL_LDT));
}

static void pic_pit_init(void) {
  outb(0x20, 0x11), outb(0xA0, 0x11);
  outb(0x21, 0x20), outb(0xA1, 0x28);
  outb(0x21, 0x04), outb(0xA1, 0x02);
  outb(0x21, 0x01), outb(0xA1, 0x01);
  outb(0x21, 0xFE), outb(0xA1, 0xFF); /* only IRQ 0, the PIT */
  unsigned div = (1193182 + TIMER_HZ / 2) / TIMER_HZ;
  outb(0x43, 0x34);
  outb(0x40, (uint8_t)div), outb(0x40, (uint8_t)(div >> 8));
}

void cpu_init(void) {
  /* Accessed bits set from the start, as in the 64-bit kernel (redpill sees one known value). */
  gdt[0] = 0;
  gdt[1] = seg_desc(0, 0xFFFFF, 0x1B, 0, 0xC); /* 0x08 kernel code: 32-bit, 4 GiB */
  gdt[2] = seg_desc(0, 0xFFFFF, 0x13, 0, 0xC); /* 0x10 kernel data */
  gdt[3] = seg_desc(0, 0xFFFFF, 0x1B, 3, 0xC); /* 0x18 user code */
  gdt[4] = seg_desc(0, 0xFFFFF, 0x13, 3, 0xC); /* 0x20 user data */
  gdt[5] = seg_desc((uint32_t)&tss, sizeof tss - 1, 0x9, 3, 0); /* 0x28: available 32-bit TSS */
  gdt[6] = seg_desc((uint32_t)ldt, sizeof ldt - 1, 0x2, 3, 0);  /* 0x30: LDT */
  ldt[0] = seg_desc(0, 0xFFFFF, 0x13, 3, 0xC); /* LDT selector 0x07: user data */
  ldt[1] = seg_desc(0, 0xFFFF, 0x1B, 3, 0x4);  /* LDT selector 0x0F: 32-bit code, byte granular */
  tss.ss0 = SEL_KDATA;
  tss.iomap_base = sizeof tss; /* no I/O bitmap: ring 3 may touch no port */

  for (int v = 0; v < 32; v++) set_gate(v, isr_table[v], 0);
  set_gate(VEC_TIMER, isr_table[32], 0);
  set_gate(VEC_SPURIOUS, isr_table[33], 0);
  set_gate(VEC_SYSCALL_INT, isr_table[34], 3);
  load_tables();

  __asm__ volatile("mov %0, %%cr0" ::"r"(CR0_KNOWN));
  wrmsr(0x174, SEL_KCODE);                /* IA32_SYSENTER_CS */
  wrmsr(0x176, (uint32_t)sysenter_entry); /* IA32_SYSENTER_EIP */
  pic_pit_init();
}

void set_kernel_stack(uintptr_t top) {
  tss.esp0 = top;
  wrmsr(0x175, top); /* IA32_SYSENTER_ESP */
}

void fill_sysinfo(struct sysinfo *si) {
  static const uint16_t probe[] = {0x00, SEL_KCODE, SEL_KDATA, SEL_UDATA, SEL_UCODE, SEL_TSS, SEL_LDT | 3, 0x0F};
  memset(si, 0, sizeof *si);
  si->gdt_base = (uint32_t)gdt, si->gdt_limit = sizeof gdt - 1;
  si->idt_base = (uint32_t)idt, si->idt_limit = sizeof idt - 1;
  si->ldt_sel = SEL_LDT, si->tr_sel = SEL_TSS;
  si->user_cs = SEL_UCODE, si->user_ss = SEL_UDATA;
  si->cr0 = CR0_KNOWN;
  si->user_rflags = USER_RFLAGS;
  for (int i = 0; i < 8; i++) {
    uint16_t s = probe[i];
    si->sels[i].sel = s;
    if (s >= 4) si->sels[i].desc_lo = ((s & 4) ? ldt : gdt)[s >> 3];
  }
  si->nsels = 8;
}
