/* mm.c: physical pages and address spaces. Free pages sit on a stack (the last page freed is the
 * first one handed out again: smc relies on that to show one physical page holding two programs
 * in turn). Each process has its own PML4 and PDPT; PDPT[0] points to the one kernel page
 * directory (0..1 GiB identity, 2 MiB pages, supervisor only) and PDPT[1] to the process's own
 * page directory for 1..2 GiB, where user programs live (4 KiB pages, user accessible). */
#include "kernel.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* Built by boot.asm before paging is on; kernel_pd is shared by every address space. */
uint64_t boot_pml4[512] __attribute__((aligned(4096)));
uint64_t boot_pdpt[512] __attribute__((aligned(4096)));
uint64_t kernel_pd[512] __attribute__((aligned(4096)));
uint64_t kernel_pml4;

static uint64_t free_stack[(FRAMES_END - FRAMES_START) / PAGE];
static uint64_t nfree;

void mm_init(void) {
  kernel_pml4 = (uint64_t)boot_pml4;
  /* Push from the top down so the first allocations come from low addresses. */
  for (uint64_t pa = FRAMES_END; pa > FRAMES_START;) {
    pa -= PAGE;
    free_stack[nfree++] = pa;
  }
}

uint64_t page_alloc(void) {
  if (!nfree) return 0;
  uint64_t pa = free_stack[--nfree];
  memset((void *)pa, 0, PAGE); /* identity map: physical address = kernel virtual address */
  return pa;
}

void page_free(uint64_t pa) { free_stack[nfree++] = pa; }

uint64_t pages_free(void) { return nfree; }

uint64_t as_create(void) {
  uint64_t pml4 = page_alloc(), pdpt = page_alloc();
  if (!pml4 || !pdpt) kpanic("out of memory for page tables");
  ((uint64_t *)pml4)[0] = pdpt | PTE_P | PTE_W | PTE_U;
  ((uint64_t *)pdpt)[0] = (uint64_t)kernel_pd | PTE_P | PTE_W; /* U = 0: the kernel half */
  return pml4;
}

/* The entry for va in the table below `table`, allocating that table if asked. */
static uint64_t *next_level(uint64_t *table, unsigned idx, int alloc) {
  if (!(table[idx] & PTE_P)) {
    if (!alloc) return 0;
    uint64_t t = page_alloc();
    if (!t) return 0;
    table[idx] = t | PTE_P | PTE_W | PTE_U; /* the leaf entry decides what user code may do */
  }
  return (uint64_t *)(table[idx] & PTE_ADDR);
}

static uint64_t *pte_of(uint64_t pml4, uint64_t va, int alloc) {
  uint64_t *pdpt = next_level((uint64_t *)pml4, va >> 39 & 511, alloc);
  if (!pdpt || (va >> 30 & 511) == 0) return 0; /* PDPT[0] is the kernel's */
  uint64_t *pd = next_level(pdpt, va >> 30 & 511, alloc);
  if (!pd) return 0;
  uint64_t *pt = next_level(pd, va >> 21 & 511, alloc);
  return pt ? &pt[va >> 12 & 511] : 0;
}

/* Gives va a fresh zeroed page. The page tables on the way are made first and the page itself
 * last: the exact reverse of the order as_free_user gives pages back, so a program started right
 * after another one ended gets the same physical pages at the same addresses. */
uint64_t as_alloc(uint64_t pml4, uint64_t va, int writable) {
  uint64_t *pte = pte_of(pml4, va, 1), pa;
  if (!pte || !(pa = page_alloc())) return 0;
  *pte = pa | PTE_P | PTE_U | (writable ? PTE_W : 0);
  return pa;
}

uint64_t as_lookup(uint64_t pml4, uint64_t va) {
  uint64_t *pte = pte_of(pml4, va, 0);
  if (!pte || !(*pte & PTE_P)) return 0;
  return (*pte & PTE_ADDR) | (va & (PAGE - 1));
}

/* fork: a new address space with a copy of every user page (no copy-on-write: simple). */
uint64_t as_copy(uint64_t pml4) {
  uint64_t child = as_create();
  uint64_t *pdpt = (uint64_t *)(((uint64_t *)pml4)[0] & PTE_ADDR);
  for (unsigned i = 1; i < 512; i++) {
    if (!(pdpt[i] & PTE_P)) continue;
    uint64_t *pd = (uint64_t *)(pdpt[i] & PTE_ADDR);
    for (unsigned j = 0; j < 512; j++) {
      if (!(pd[j] & PTE_P)) continue;
      uint64_t *pt = (uint64_t *)(pd[j] & PTE_ADDR);
      for (unsigned k = 0; k < 512; k++) {
        if (!(pt[k] & PTE_P)) continue;
        uint64_t va = (uint64_t)i << 30 | (uint64_t)j << 21 | (uint64_t)k << 12;
        uint64_t pa = as_alloc(child, va, (pt[k] & PTE_W) != 0);
        if (!pa) kpanic("out of memory in fork");
        memcpy((void *)pa, (void *)(pt[k] & PTE_ADDR), PAGE);
      }
    }
  }
  return child;
}

/* Frees every user page and user page table, highest address first (see as_alloc). */
void as_free_user(uint64_t pml4) {
  uint64_t *pdpt = (uint64_t *)(((uint64_t *)pml4)[0] & PTE_ADDR);
  for (unsigned i = 511; i >= 1; i--) {
    if (!(pdpt[i] & PTE_P)) continue;
    uint64_t *pd = (uint64_t *)(pdpt[i] & PTE_ADDR);
    for (int j = 511; j >= 0; j--) {
      if (!(pd[j] & PTE_P)) continue;
      uint64_t *pt = (uint64_t *)(pd[j] & PTE_ADDR);
      for (int k = 511; k >= 0; k--)
        if (pt[k] & PTE_P) page_free(pt[k] & PTE_ADDR);
      page_free((uint64_t)pt);
      pd[j] = 0;
    }
    page_free((uint64_t)pd);
    pdpt[i] = 0;
  }
}

void as_destroy(uint64_t pml4) {
  as_free_user(pml4);
  page_free(((uint64_t *)pml4)[0] & PTE_ADDR);
  page_free(pml4);
}

int user_ok(uint64_t va, uint64_t n, int write) {
  if (va < USER_BASE || va + n < va || va + n > USER_STACK_TOP) return 0;
  for (uint64_t p = va & ~(PAGE - 1); p < va + n; p += PAGE) {
    /* The kernel writes through its identity map, which ignores the user's page protection:
     * check it here, or wait() could write into a program's read-only text. */
    uint64_t *pte = pte_of(current->pml4, p, 0);
    if (!pte || !(*pte & PTE_P) || (write && !(*pte & PTE_W))) return 0;
  }
  return 1;
}
