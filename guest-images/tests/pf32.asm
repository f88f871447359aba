; pf32.asm: page faults under 32-bit paging (4 KiB pages and 4 MiB PSE pages) and PAE paging in
; protected mode: the error code and CR2 for not present, U/S, R/W with CR0.WP, a reserved bit in
; a 4 MiB PDE, the A/D bits in both levels, then with PAE: NX fetches (EFER.NXE), and a PDPTE with
; a reserved bit, which MOV CR3 itself refuses with #GP(0).

%include "common.inc"
%include "lib32.inc"

TEST_AREA equ 0x400000              ; 4 KiB pages (pt), PDE 1
BIG_PAGE  equ 0x800000              ; a 4 MiB page, PDE 2
RSV_PAGE  equ 0xC00000              ; a 4 MiB page with reserved bit 21, PDE 3
PG_NP     equ TEST_AREA + 0x0000
PG_SUP    equ TEST_AREA + 0x1000
PG_RO     equ TEST_AREA + 0x2000
PG_AD     equ TEST_AREA + 0x3000
%define PTE(a) (pt + ((a - TEST_AREA) >> 12) * 4)
MSR_EFER  equ 0xC0000080
CR4_PAE   equ 1 << 5

main:
    PRINT "pf32", 10
    mov dword [pgdir], 0x000000 | PTE_P | PTE_W | PTE_U | PTE_PS
    mov dword [pgdir + 4], pt + (PTE_P | PTE_W | PTE_U)
    mov dword [pgdir + 8], BIG_PAGE | PTE_P | PTE_W | PTE_U | PTE_PS
    mov dword [pgdir + 12], RSV_PAGE | PTE_P | PTE_W | PTE_U | PTE_PS | (1 << 21)
    mov edi, pt
    mov eax, TEST_AREA | PTE_P | PTE_W | PTE_U
.fill:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    cmp edi, pt + 4096
    jb .fill
    and dword [PTE(PG_NP)], ~PTE_P
    and dword [PTE(PG_SUP)], ~PTE_U
    and dword [PTE(PG_RO)], ~PTE_W
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    mov eax, pgdir
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax

    PRINT "kernel read, not present: "
    TRY
    mov al, [PG_NP + 0x10]
    ENDTRY
    PRINT "kernel write, not present: "
    TRY
    mov byte [PG_NP + 0x20], 1
    ENDTRY
    PRINT "user read, not present: "
    TRY
    call user_mode
    mov al, [PG_NP + 0x30]
    int 0x80
    ENDTRY
    PRINT "user write, supervisor page: "
    TRY
    call user_mode
    mov byte [PG_SUP + 0x40], 1
    int 0x80
    ENDTRY
    PRINT "user write, read-only page: "
    TRY
    call user_mode
    mov byte [PG_RO + 0x50], 1
    int 0x80
    ENDTRY
    PRINT "kernel write, read-only page, CR0.WP=0: "
    TRY
    mov byte [PG_RO + 0x60], 1
    ENDTRY
    PRINT "kernel write, read-only page, CR0.WP=1: "
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    TRY
    mov byte [PG_RO + 0x70], 1
    ENDTRY
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax
    PRINT "read from a 4 MiB page with reserved bit 21: "
    TRY
    mov al, [RSV_PAGE + 0x1234]
    ENDTRY
    PRINT "user write, same page: "
    TRY
    call user_mode
    mov byte [RSV_PAGE + 0x80], 1
    int 0x80
    ENDTRY
    PRINT "4 MiB page dirty bit before/after a write: "
    and dword [pgdir + 8], ~0x60
    mov eax, cr3
    mov cr3, eax
    mov eax, [pgdir + 8]
    and eax, 0x60
    mov ecx, 2
    call puthex
    mov byte [BIG_PAGE + 0x100], 1
    PRINT "/"
    mov eax, [pgdir + 8]
    and eax, 0x60
    call puthex
    PRINT 10
    PRINT "4 KiB page A/D, PDE A: "
    and dword [PTE(PG_AD)], ~0x60
    and dword [pgdir + 4], ~0x60
    mov eax, cr3
    mov cr3, eax
    mov al, [PG_AD]
    mov eax, [PTE(PG_AD)]
    and eax, 0x60
    mov ecx, 2
    call puthex
    mov byte [PG_AD], 1
    PRINT "/"
    mov eax, [PTE(PG_AD)]
    and eax, 0x60
    call puthex
    PRINT " PDE="
    mov eax, [pgdir + 4]
    and eax, 0x60
    call puthex
    PRINT 10

    ; ---- PAE: paging off, PDPT -> one PD with 2 MiB pages, NXE on ----
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    mov dword [pae_pd], 0x000000 | PTE_P | PTE_W | PTE_U | PTE_PS
    mov dword [pae_pd + 8], 0x200000 | PTE_P | PTE_W | PTE_U | PTE_PS
    mov dword [pae_pd + 16], 0x400000 | PTE_P | PTE_W | PTE_U | PTE_PS
    mov dword [pae_pd + 20], 0x80000000 ; XD
    mov dword [pdpt], pae_pd + PTE_P
    mov ecx, MSR_EFER
    rdmsr
    or eax, 1 << 11
    wrmsr
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, pdpt
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    mov byte [0x400000], 0xC3       ; RET, writable through the XD page
    PRINT "PAE: kernel fetch from an XD 2 MiB page: "
    TRY
    mov eax, 0x400000
    call eax
    ENDTRY
    PRINT "PAE: user fetch from it: "
    TRY
    call user_mode
    mov eax, 0x400000
    call eax
    int 0x80
    ENDTRY
    PRINT "PAE: read beyond the mapped 6 MiB: "
    TRY
    mov al, [0x600000]
    ENDTRY
    PRINT "PAE: mov cr3 with a PDPTE that sets reserved bit 5, at "
    mov eax, .badcr3
    call puthex8
    PRINT ": "
    or dword [pdpt + 8], 1 | (1 << 5)
    TRY
    mov eax, pdpt
.badcr3:
    mov cr3, eax
    ENDTRY
    mov dword [pdpt + 8], 0
    mov eax, pdpt
    mov cr3, eax
    PRINT "PAE: mov cr3 with a PDPTE that sets reserved bit 5 but not P: "
    or dword [pdpt + 8], 1 << 5
    TRY
    mov eax, pdpt
    mov cr3, eax
    ENDTRY
    mov dword [pdpt + 8], 0
    ret

%macro KERNEL_BSS 0
alignb 4096
pgdir:  resd 1024
pt:     resd 1024
pae_pd: resq 512
pdpt:   resq 4
%endmacro
%include "end32.inc"
