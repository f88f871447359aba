; timer.asm: timer interrupts preempting ring-3 code. The 8254 PIT (IRQ 0 through the 8259 pair,
; remapped to vector 0x20) and then the local APIC timer (one-shot, vector 0x30) interrupt a ring-3
; `jmp $` loop; HLT with IF = 1 waits for the next PIT tick. Only facts that do not depend on when
; the interrupt came are printed: the vector, that ring 3 was interrupted, where, with which flags.

%include "common.inc"
%include "lib64.inc"

LAPIC       equ 0xFEE00000
PIT_HZ      equ 1193182

main:
    PRINT "timer", 10
    ; map the local APIC page: PDPT[3] -> pd_hi, a 2 MiB uncached page at 0xFEE00000
    mov rax, pd_hi + (PTE_P | PTE_W)
    mov [pdpt + 24], rax
    mov rax, (LAPIC & ~0x1FFFFF) | PTE_P | PTE_W | PTE_PS | (1 << 4) ; PCD
    mov [pd_hi + ((LAPIC >> 21) & 511) * 8], rax
    mov rax, cr3
    mov cr3, rax
    ; 8259 pair: vectors 0x20-0x2F, cascade on IRQ 2, 8086 mode; only IRQ 0 unmasked
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    mov eax, 0x20
    lea rdx, [rel pit_handler]
    xor r8d, r8d
    call set_gate
    mov eax, 0x30
    lea rdx, [rel lapic_handler]
    call set_gate
    mov eax, 0xFF                   ; spurious vector
    lea rdx, [rel spurious]
    call set_gate

    ; PIT channel 0, mode 2 (rate generator), 1 kHz
    mov al, 0x34
    out 0x43, al
    mov ax, PIT_HZ / 1000
    out 0x40, al
    mov al, ah
    out 0x40, al

    PRINT "PIT ticks preempting a ring-3 loop:", 10
    TRY
    lea rdi, [rel user_loop]
    lea rsi, [rel ustack_top]
    mov edx, 0x202                  ; IF = 1 in ring 3
    jmp to_ring3
    ENDTRY

    PRINT "hlt with IF=1 at CPL 0: "
    mov byte [rel ticks], 0
    mov byte [rel hlt_mode], 1
    mov al, 0xFE
    out 0x21, al
    sti
    hlt                             ; STI's shadow covers nothing here: HLT waits for IRQ 0
    cli
    cmp byte [rel ticks], 0         ; how many ticks is up to the host's timing under QEMU
    je .no_tick
    PRINT "woken by IRQ 0", 10
    jmp .woken
.no_tick:
    PRINT "woken without IRQ 0", 10
.woken:
    mov al, 0xFF                    ; PIT off the bus from here on
    out 0x21, al

    PRINT "local APIC timer preempting a ring-3 loop: "
    mov rbx, LAPIC
    mov dword [rbx + 0xF0], 0x1FF ; software enable, spurious vector 0xFF
    mov dword [rbx + 0x3E0], 0xB  ; divide by 1
    mov dword [rbx + 0x320], 0x30 ; one-shot, vector 0x30
    TRY
    mov dword [rbx + 0x380], 200000
    lea rdi, [rel user_loop]
    lea rsi, [rel ustack_top]
    mov edx, 0x202
    jmp to_ring3
    ENDTRY
    PRINT "lapic timer current count after one-shot: "
    mov rbx, LAPIC
    mov eax, [rbx + 0x390]
    mov ecx, 8
    call puthex
    PRINT 10

    ; TPR 0x40 holds back vector 0x30 (priority class 3 <= 4): it waits in IRR until TPR drops.
    ; Poll IRR, not the current count: a count of 0 may be read before the expiry is signalled.
    PRINT "TPR=0x40, one-shot to vector 0x30: "
    mov dword [rbx + 0x80], 0x40
    mov dword [rbx + 0x380], 1000
    mov ecx, 10000000
.wait:
    test dword [rbx + 0x210], 1 << 16 ; IRR bits 63..32: vector 0x30 is bit 16
    jnz .pending
    dec ecx
    jnz .wait
    PRINT "never pending in IRR", 10
    jmp .tpr_done
.pending:
    PRINT "pending in IRR; IF=1 with TPR=0x40: "
    TRY
    sti
    nop
    nop
    cli
    ENDTRY
    PRINT "TPR lowered to 0: "
    TRY
    mov dword [rbx + 0x80], 0
    sti
    nop                             ; delivered after STI's shadow, before the second NOP
    nop
    cli
    ENDTRY
.tpr_done:

    ; an external interrupt through a not-present gate: #NP with EXT set in the error code
    PRINT "IRQ 0 through a not-present gate: "
    mov eax, 0x20
    lea rdx, [rel pit_handler]
    mov r8d, 0x200
    call set_gate
    mov byte [rel hlt_mode], 1
    mov al, 0xFE
    out 0x21, al
    TRY
    sti
    hlt
    ENDTRY
    cli
    mov al, 0xFF
    out 0x21, al
    ret

user_loop:
    jmp user_loop

; IRQ 0: print the interrupted context; after three ticks from ring 3, leave to ENDTRY.
pit_handler:
    push rax
    push rcx
    inc byte [rel ticks]
    cmp byte [rel hlt_mode], 0
    jne .eoi
    PRINT "  vector 20 from cs="
    mov rax, [rsp + 24]
    mov ecx, 4
    call puthex
    PRINT " rip="
    mov rax, [rsp + 16]
    lea rcx, [rel user_loop]
    sub rax, rcx
    mov ecx, 2
    PRINT "user_loop+"
    call puthex
    PRINT " rflags="
    mov rax, [rsp + 32]
    mov ecx, 8
    call puthex
    PRINT " ss="
    mov rax, [rsp + 48]
    mov ecx, 4
    call puthex
    PRINT 10
.eoi:
    mov al, 0x20                    ; non-specific EOI
    out 0x20, al
    cmp byte [rel hlt_mode], 0
    jne .iret
    cmp byte [rel ticks], 3
    jb .iret
    mov al, 0xFF
    out 0x21, al
    jmp user_done                   ; as if ring 3 had finished
.iret:
    pop rcx
    pop rax
    iretq

lapic_handler:
    PRINT "vector 30 from cs="
    mov rax, [rsp + 8]
    mov ecx, 4
    call puthex
    PRINT " rip="
    mov rax, [rsp]
    lea rcx, [rel user_loop]
    sub rax, rcx
    mov ecx, 2
    PRINT "user_loop+"
    call puthex
    PRINT 10
    mov rbx, LAPIC
    mov dword [rbx + 0xB0], 0       ; EOI
    jmp user_done

spurious:
    iretq

align 8
ticks:    db 0
hlt_mode: db 0

%macro KERNEL_BSS 0
alignb 4096
pd_hi:    resq 512
%endmacro
%include "end64.inc"
