; pf64.asm: page-fault error codes and CR2 in 4-level paging: not present (read, write, user,
; fetch), user access to a supervisor page, writes to a read-only page from ring 3 and from ring 0
; with CR0.WP clear and set, instruction fetch from an NX page, a reserved bit, an access that
; crosses into a missing page, and the accessed/dirty bits the walk sets.

%include "common.inc"
%include "lib64.inc"

PG_NP   equ TEST_AREA + 0x0000       ; not present
PG_SUP  equ TEST_AREA + 0x1000       ; supervisor only (U = 0)
PG_RO   equ TEST_AREA + 0x2000       ; read-only, user
PG_NX   equ TEST_AREA + 0x3000       ; no-execute, user, writable
PG_RSV  equ TEST_AREA + 0x4000       ; reserved bit 51 set
PG_AD   equ TEST_AREA + 0x5000       ; normal page: watch A and D
PG_NP2  equ TEST_AREA + 0x6000       ; not present, right after PG_AD

%define PTE(a) (pt + ((a - TEST_AREA) >> 12) * 8) ; the PTE that maps page a

main:
    PRINT "pf64", 10
    ; a RET at the start of every page someone may fetch from, before the protections go on
    mov byte [PG_SUP], 0xC3
    mov byte [PG_NX], 0xC3
    mov byte [PG_AD], 0xC3
    mov byte [PG_RO], 0xC3
    and dword [PTE(PG_NP)], ~PTE_P
    and dword [PTE(PG_NP2)], ~PTE_P
    and dword [PTE(PG_SUP)], ~PTE_U
    and dword [PTE(PG_RO)], ~PTE_W
    or dword [PTE(PG_NX) + 4], PTE_NX_HI
    or dword [PTE(PG_RSV) + 4], 1 << (51 - 32)
    and dword [PTE(PG_AD)], ~0x60   ; A and D clear
    mov rax, cr3                    ; flush the TLB: every entry above changed
    mov cr3, rax

    PRINT "kernel read, not present: "
    TRY
    mov al, [PG_NP + 0x10]
    ENDTRY
    PRINT "kernel write, not present: "
    TRY
    mov byte [PG_NP + 0x20], 1
    ENDTRY
    PRINT "kernel fetch, not present: "
    TRY
    mov eax, PG_NP + 0x30
    call rax
    ENDTRY
    PRINT "user read, not present: "
    TRY
    call user_mode
    mov al, [PG_NP + 0x40]
    int 0x80
    ENDTRY
    PRINT "user write, not present: "
    TRY
    call user_mode
    mov byte [PG_NP + 0x50], 1
    int 0x80
    ENDTRY
    PRINT "user read, supervisor page: "
    TRY
    call user_mode
    mov al, [PG_SUP + 0x60]
    int 0x80
    ENDTRY
    PRINT "user write, supervisor page: "
    TRY
    call user_mode
    mov byte [PG_SUP + 0x70], 1
    int 0x80
    ENDTRY
    PRINT "user fetch, supervisor page: "
    TRY
    call user_mode
    mov eax, PG_SUP
    call rax
    int 0x80
    ENDTRY
    PRINT "kernel read, supervisor page: "
    TRY
    mov al, [PG_SUP + 0x80]
    ENDTRY
    PRINT "user read, read-only page: "
    TRY
    call user_mode
    mov al, [PG_RO + 0x90]
    int 0x80
    ENDTRY
    PRINT "user write, read-only page: "
    TRY
    call user_mode
    mov byte [PG_RO + 0xA0], 1
    int 0x80
    ENDTRY
    PRINT "kernel write, read-only page, CR0.WP=0: "
    mov rax, cr0
    and eax, ~CR0_WP
    mov cr0, rax
    TRY
    mov byte [PG_RO + 0xB0], 1
    ENDTRY
    PRINT "kernel write, read-only page, CR0.WP=1: "
    mov rax, cr0
    or eax, CR0_WP
    mov cr0, rax
    TRY
    mov byte [PG_RO + 0xC0], 1
    ENDTRY
    mov rax, cr0
    and eax, ~CR0_WP
    mov cr0, rax
    PRINT "kernel fetch, NX page: "
    TRY
    mov eax, PG_NX
    call rax
    ENDTRY
    PRINT "user fetch, NX page: "
    TRY
    call user_mode
    mov eax, PG_NX
    call rax
    int 0x80
    ENDTRY
    PRINT "user read, NX page: "
    TRY
    call user_mode
    mov al, [PG_NX + 0xD0]
    int 0x80
    ENDTRY
    PRINT "kernel fetch, NX page, EFER.NXE=0 (bit 63 reserved): "
    mov ecx, MSR_EFER
    rdmsr
    and eax, ~EFER_NXE
    wrmsr
    TRY
    mov eax, PG_NX
    call rax
    ENDTRY
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_NXE
    wrmsr
    PRINT "kernel read, reserved bit: "
    TRY
    mov al, [PG_RSV + 0xE0]
    ENDTRY
    PRINT "user write, reserved bit: "
    TRY
    call user_mode
    mov byte [PG_RSV + 0xF0], 1
    int 0x80
    ENDTRY
    PRINT "A/D before: "
    mov rax, [PTE(PG_AD)]
    and eax, 0x60
    mov ecx, 2
    call puthex
    mov al, [PG_AD + 0x100]
    PRINT ", after read: "
    mov rax, [PTE(PG_AD)]
    and eax, 0x60
    call puthex
    mov byte [PG_AD + 0x100], 1
    PRINT ", after write: "
    mov rax, [PTE(PG_AD)]
    and eax, 0x60
    call puthex
    PRINT ", PD entry A: "
    mov rax, [pd + 16]
    and eax, 0x20
    call puthex
    PRINT 10
    PRINT "kernel write, CR0.WP=1, PTE made read-only (was cached writable), after INVLPG: "
    mov rax, cr0
    or eax, CR0_WP
    mov cr0, rax
    and dword [PTE(PG_AD)], ~PTE_W
    invlpg [PG_AD]
    TRY
    mov byte [PG_AD + 0x110], 1
    ENDTRY
    mov rax, cr0
    and eax, ~CR0_WP
    mov cr0, rax
    PRINT "dword read across into a missing page: "
    TRY
    mov eax, [PG_NP2 - 2]
    ENDTRY
    PRINT "ring 3 int 0x80 with TSS.RSP0 in a missing page (#PF on IST1): "
    mov eax, 14
    lea rdx, [rel exc_stubs + 14 * exc_stub_size]
    mov r8d, 1
    call set_gate
    mov qword [rel tss + 4], PG_NP + 0x1000
    TRY
    call user_mode
    int 0x80
    ENDTRY
    lea rax, [rel kstack_top]
    mov [rel tss + 4], rax
    mov eax, 14
    lea rdx, [rel exc_stubs + 14 * exc_stub_size]
    xor r8d, r8d
    call set_gate

    PRINT "instruction fetch straddling into an NX page: "
    mov dword [PG_NX - 2], 0x332211B8 ; mov eax, 0x44332211; ret (crosses at the imm32's 3rd byte)
    mov dword [PG_NX + 2], 0xC344
    TRY
    mov eax, PG_NX - 2
    call rax
    ENDTRY
    PRINT "instruction fetch straddling into a missing page: "
    mov word [PG_NP2 - 2], 0x11B8   ; the rest of the instruction would be in the missing page
    TRY
    mov eax, PG_NP2 - 2
    call rax
    ENDTRY
    ret

%include "end64.inc"
