; dbg64.asm: debug exceptions and other checks in 64-bit mode: TF single steps (after POPF, over
; MOV SS, into an INT n handler), DR0-DR3 breakpoints (instruction: a fault, resumed with RF;
; data write and read/write: traps) and DR6 as the handler finds it, then the CPL-3 checks of
; RDTSC with CR4.TSD, SWAPGS, INVLPG and MOV DR, the GS bases SWAPGS exchanges, CR8 against the
; local APIC TPR, and LAR/LSL/VERR/VERW from ring 3 (no LDT selectors: with LDTR as reset left
; it they would read firmware memory at address 0).

%include "common.inc"
%include "lib64.inc"

MSR_GS_BASE     equ 0xC0000101
MSR_KGS_BASE    equ 0xC0000102
LAPIC           equ 0xFEE00000

main:
    PRINT "dbg64", 10
    PRINT "popf sets TF; trap after the next instruction (first #DB: DR6 as reset left it): "
    TRY
    pushfq
    or qword [rsp], 0x100
    popfq
.s1:
    nop
.s2:
    nop
    ENDTRY
    PRINT "the same again (DR6 as the handler cleared it): "
    TRY
    mov ax, ss
    pushfq
    or qword [rsp], 0x100
    popfq
    nop                             ; #DB after this one...
    ENDTRY
    PRINT "...and with mov ss as the stepped instruction: "
    mov eax, 1                      ; #DB on IST1 so a later trap keeps its own stack
    lea rdx, [rel exc_stubs + 1 * exc_stub_size]
    mov r8d, 1
    call set_gate
    TRY
    mov ax, ss
    pushfq
    or qword [rsp], 0x100
    popfq
    mov ss, ax                      ; the trap after MOV SS waits one more instruction
    nop
    nop
    ENDTRY
    mov eax, 1
    lea rdx, [rel exc_stubs + 1 * exc_stub_size]
    xor r8d, r8d
    call set_gate

    ; hardware breakpoints
    PRINT "DR0 execute breakpoint (fault, before the instruction): "
    lea rax, [rel .bp_exec]
    mov dr0, rax
    mov eax, 0x00000001             ; L0, R/W0 = 00 (execute), LEN0 = 00
    mov dr7, rax
    TRY
    nop
.bp_exec:
    nop
    ENDTRY
    xor eax, eax
    mov dr7, rax
    PRINT "DR1 data write breakpoint, dword (trap, after the store): "
    lea rax, [rel watch]
    mov dr1, rax
    mov eax, (0b1101 << 20) | (1 << 2) ; R/W1 = 01 (write), LEN1 = 11 (4 bytes), L1
    mov dr7, rax
    TRY
    mov dword [rel watch], 5
    nop
    ENDTRY
    PRINT "DR1 write breakpoint, a read of it: "
    TRY
    mov eax, [rel watch]
    ENDTRY
    PRINT "DR1 write breakpoint, a byte store into its dword: "
    TRY
    mov byte [rel watch + 3], 1
    ENDTRY
    PRINT "DR1 as read/write, a read: "
    mov eax, (0b1111 << 20) | (1 << 2)
    mov dr7, rax
    TRY
    mov eax, [rel watch]
    ENDTRY
    xor eax, eax
    mov dr7, rax
    PRINT "dr7 after the probes: "
    mov rax, dr7
    mov ecx, 8
    call puthex
    PRINT 10

    ; CPL-3 checks
    PRINT "ring 3 rdtsc with CR4.TSD: "
    mov rax, cr4
    or eax, 1 << 2
    mov cr4, rax
    TRY
    call user_mode
    rdtsc
    int 0x80
    ENDTRY
    mov rax, cr4
    and eax, ~(1 << 2)
    mov cr4, rax
    PRINT "ring 3 rdtsc without: "
    TRY
    call user_mode
    rdtsc
    int 0x80
    ENDTRY
    PRINT "ring 3 swapgs: "
    TRY
    call user_mode
    swapgs
    int 0x80
    ENDTRY
    PRINT "ring 3 invlpg: "
    TRY
    call user_mode
    invlpg [rel watch]
    int 0x80
    ENDTRY
    PRINT "ring 3 mov rax, dr7: "
    TRY
    call user_mode
    mov rax, dr7
    int 0x80
    ENDTRY

    PRINT "swapgs: gs base / kernel gs base before "
    mov ecx, MSR_GS_BASE
    mov eax, 0x11112222
    mov edx, 0x00003333
    wrmsr
    mov ecx, MSR_KGS_BASE
    mov eax, 0x44445555
    mov edx, 0x00006666
    wrmsr
    call show_gs
    swapgs
    PRINT ", after "
    call show_gs
    PRINT ", gs:[0] reads through the new base: "
    mov ecx, MSR_GS_BASE
    lea rax, [rel watch]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov eax, [gs:0]
    mov ecx, 8
    call puthex
    PRINT 10
    PRINT "mov gs, selector: the base becomes the descriptor's (0): "
    mov ax, K_DATA
    mov gs, ax
    mov ecx, MSR_GS_BASE
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov ecx, 16
    call puthex
    PRINT 10

    ; CR8 and the local APIC TPR
    mov rax, pd_hi + (PTE_P | PTE_W)
    mov [pdpt + 24], rax
    mov rax, (LAPIC & ~0x1FFFFF) | PTE_P | PTE_W | PTE_PS | (1 << 4)
    mov [pd_hi + ((LAPIC >> 21) & 511) * 8], rax
    mov rax, cr3
    mov cr3, rax
    mov rbx, LAPIC
    PRINT "mov cr8, 5 -> TPR="
    mov eax, 5
    mov cr8, rax
    mov eax, [rbx + 0x80]
    mov ecx, 2
    call puthex
    PRINT "; TPR=0x9A -> cr8="
    mov dword [rbx + 0x80], 0x9A
    mov rax, cr8
    call puthex
    PRINT 10
    xor eax, eax
    mov cr8, rax

    ; LAR / LSL / VERR / VERW from ring 3 on a few selectors
    PRINT "ring 3 lar/lsl/verr/verw (ZF, value):", 10
    TRY
    call user_mode
    lea rdi, [rel sel_results]
    lea rsi, [rel sel_list]
.sel:
    movzx ecx, word [rsi]
    cmp ecx, 0xFFFF
    je .seldone
    xor eax, eax
    lar eax, ecx
    setz byte [rdi]
    mov [rdi + 4], eax
    xor eax, eax
    lsl eax, ecx
    setz byte [rdi + 1]
    mov [rdi + 8], eax
    verr cx
    setz byte [rdi + 2]
    verw cx
    setz byte [rdi + 3]
    add rdi, 12
    add rsi, 2
    jmp .sel
.seldone:
    int 0x80
    ENDTRY
    lea rdi, [rel sel_results]
    lea rsi, [rel sel_list]
.print:
    movzx eax, word [rsi]
    cmp eax, 0xFFFF
    je .printed
    PRINT "  sel "
    mov ecx, 4
    call puthex
    PRINT ": lar "
    movzx eax, byte [rdi]
    mov ecx, 1
    call puthex
    PRINT " "
    mov eax, [rdi + 4]
    mov ecx, 8
    call puthex
    PRINT ", lsl "
    movzx eax, byte [rdi + 1]
    mov ecx, 1
    call puthex
    PRINT " "
    mov eax, [rdi + 8]
    mov ecx, 8
    call puthex
    PRINT ", verr "
    movzx eax, byte [rdi + 2]
    mov ecx, 1
    call puthex
    PRINT ", verw "
    movzx eax, byte [rdi + 3]
    call puthex
    PRINT 10
    add rdi, 12
    add rsi, 2
    jmp .print
.printed:
    ret

show_gs:
    mov ecx, MSR_GS_BASE
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov ecx, 16
    call puthex
    PRINT "/"
    mov ecx, MSR_KGS_BASE
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov ecx, 16
    call puthex
    ret

align 4
watch:   dd 0x12345678
sel_list:
    dw 0, K_CODE, K_DATA, U_CODE32 | 3, U_DATA | 3, U_CODE64 | 3, TSS_SEL, K_DATA_NP, 0x1000
    dw 0xFFFF
align 4
sel_results: times 12 * 9 db 0

%macro KERNEL_BSS 0
alignb 4096
pd_hi:  resq 512
%endmacro
%include "end64.inc"
