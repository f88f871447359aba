/* mm.c (tinyos32): physical pages and address spaces with 32-bit paging. Free pages sit on a
 * stack, as in the 64-bit kernel. Each process has one page directory: entries 0..255 map
 * 0..1 GiB with 4 MiB pages (CR4.PSE), supervisor only, copied from the kernel's; entries from
 * 256 on point to the process's own page tables (4 KiB pages, user accessible). mm_init also
 * turns paging on: the kernel runs with paging off until then. */
#include "kernel.h"

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u
#define PTE_PS 0x80u
#define PTE_ADDR 0xFFFFF000u
#define KERNEL_PDES (KERNEL_MAP_END >> 22)

static uint32_t kernel_pd[1024] __attribute__((aligned(4096)));
uintptr_t kernel_pgdir;

static uint32_t free_stack[(FRAMES_END - FRAMES_START) / PAGE];
static uint32_t nfree;

void mm_init(void) {
  for (uint32_t i = 0; i < KERNEL_PDES; i++) kernel_pd[i] = i << 22 | PTE_PS | PTE_W | PTE_P;
  kernel_pgdir = (uintptr_t)kernel_pd;
  for (uint32_t pa = FRAMES_END; pa > FRAMES_START;) {
    pa -= PAGE;
    free_stack[nfree++] = pa;
  }
  uint32_t cr4, cr0;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | 0x10)); /* PSE: 4 MiB pages */
  write_cr3(kernel_pgdir);
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | 0x80010000u) : "memory"); /* PG and WP */
}

uintptr_t page_alloc(void) {
  if (!nfree) return 0;
  uint32_t pa = free_stack[--nfree];
  memset((void *)pa, 0, PAGE);
  return pa;
}

void page_free(uintptr_t pa) { free_stack[nfree++] = pa; }

uint64_t pages_free(void) { return nfree; }

uintptr_t as_create(void) {
  uint32_t *pd = (uint32_t *)page_alloc();
  if (!pd) kpanic("out of memory for page tables");
  memcpy(pd, kernel_pd, KERNEL_PDES * 4);
  return (uintptr_t)pd;
}

static uint32_t *pte_of(uintptr_t pgdir, uintptr_t va, int alloc) {
  uint32_t *pd = (uint32_t *)pgdir;
  if (va < KERNEL_MAP_END) return 0;
  if (!(pd[va >> 22] & PTE_P)) {
    uint32_t t;
    if (!alloc || !(t = page_alloc())) return 0;
    pd[va >> 22] = t | PTE_P | PTE_W | PTE_U;
  }
  return &((uint32_t *)(pd[va >> 22] & PTE_ADDR))[va >> 12 & 1023];
}

/* The page table first, the page last: the reverse of as_free_user (see ../kernel/mm.c). */
uintptr_t as_alloc(uintptr_t pgdir, uintptr_t va, int writable) {
  uint32_t *pte = pte_of(pgdir, va, 1), pa;
  if (!pte || !(pa = page_alloc())) return 0;
  *pte = pa | PTE_P | PTE_U | (writable ? PTE_W : 0);
  return pa;
}

uintptr_t as_lookup(uintptr_t pgdir, uintptr_t va) {
  uint32_t *pte = pte_of(pgdir, va, 0);
  if (!pte || !(*pte & PTE_P)) return 0;
  return (*pte & PTE_ADDR) | (va & (PAGE - 1));
}

uintptr_t as_copy(uintptr_t pgdir) {
  uintptr_t child = as_create();
  uint32_t *pd = (uint32_t *)pgdir;
  for (uint32_t i = KERNEL_PDES; i < 1024; i++) {
    if (!(pd[i] & PTE_P)) continue;
    uint32_t *pt = (uint32_t *)(pd[i] & PTE_ADDR);
    for (uint32_t k = 0; k < 1024; k++) {
      if (!(pt[k] & PTE_P)) continue;
      uint32_t pa = as_alloc(child, i << 22 | k << 12, (pt[k] & PTE_W) != 0);
      if (!pa) kpanic("out of memory in fork");
      memcpy((void *)pa, (void *)(pt[k] & PTE_ADDR), PAGE);
    }
  }
  return child;
}

void as_free_user(uintptr_t pgdir) {
  uint32_t *pd = (uint32_t *)pgdir;
  for (uint32_t i = 1023; i >= KERNEL_PDES; i--) {
    if (!(pd[i] & PTE_P)) continue;
    uint32_t *pt = (uint32_t *)(pd[i] & PTE_ADDR);
    for (int k = 1023; k >= 0; k--)
      if (pt[k] & PTE_P) page_free(pt[k] & PTE_ADDR);
    page_free((uintptr_t)pt);
    pd[i] = 0;
  }
}

void as_destroy(uintptr_t pgdir) {
  as_free_user(pgdir);
  page_free(pgdir);
}

int user_ok(uintptr_t va, uintptr_t n, int write) {
  if (va < USER_BASE || va + n < va || va + n > USER_STACK_TOP) return 0;
  for (uintptr_t p = va & ~(PAGE - 1); p < va + n; p += PAGE) {
    uint32_t *pte = pte_of(current->pgdir, p, 0);
    if (!pte || !(*pte & PTE_P) || (write && !(*pte & PTE_W))) return 0;
  }
  return 1;
}
