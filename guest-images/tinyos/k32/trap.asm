; trap.asm (tinyos32): every way into the kernel after boot and the way back out. IDT stubs for
; exceptions, the timer and INT 0x80; sysenter_entry for SYSENTER. All build struct trapframe
; (kernel.h) and call trap(). trap_return leaves with IRETD, or with SYSEXIT for a frame that
; SYSENTER built. DS and ES hold the user data selector (0x23) in the kernel too, so nothing has
; to reload them when crossing rings. swtch switches kernel stacks between processes.

extern trap
global isr_table, sysenter_entry, trap_return, swtch

section .text
bits 32

%macro ISR 1
isr%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21
%else
    push 0
%endif
    push %1
    jmp trap_common
%endmacro

%assign v 0
%rep 32
ISR v
%assign v v+1
%endrep
ISR 32
ISR 39
ISR 128

trap_common:
    pushad
    push esp                        ; trap(struct trapframe *)
    cld
    call trap
    add esp, 4

trap_return:
    popad
    cmp dword [esp], 0x100          ; built by sysenter_entry?
    je .sysexit
    add esp, 8                      ; vector and error code
    iretd
.sysexit:
    ; SYSEXIT loads EIP from EDX and ESP from ECX (the ABI lets SYSENTER clobber both). It does
    ; not restore EFLAGS: restore them with IF still clear, then STI, whose one-instruction delay
    ; means no interrupt can arrive before SYSEXIT has left the kernel stack.
    add esp, 8
    mov edx, [esp]                  ; eip
    mov ecx, [esp + 12]             ; user esp
    push dword [esp + 8]            ; eflags
    and dword [esp], ~0x200
    popfd
    sti
    sysexit

; SYSENTER: CS/SS from IA32_SYSENTER_CS, ESP = IA32_SYSENTER_ESP (this process's kernel stack),
; IF cleared. The user passed its return EIP in ESI and its ESP in EBP.
sysenter_entry:
    push 0x23                       ; ss
    push ebp                        ; user esp
    pushfd
    or dword [esp], 0x200           ; user code always runs with IF = 1
    push 0x1B                       ; cs
    push esi                        ; return eip
    push 0
    push 0x100                      ; "vector": VEC_SYSCALL
    jmp trap_common

; swtch(uint32_t *save_esp, uint32_t new_esp)
swtch:
    mov eax, [esp + 4]
    mov edx, [esp + 8]
    push ebp
    push ebx
    push esi
    push edi
    mov [eax], esp
    mov esp, edx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

section .rodata
align 4
isr_table:
%assign v 0
%rep 32
    dd isr %+ v
%assign v v+1
%endrep
    dd isr32
    dd isr39
    dd isr128
