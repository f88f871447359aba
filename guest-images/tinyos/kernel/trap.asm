; trap.asm: every way into the kernel after boot, and the way back out. Interrupts, exceptions and
; INT 0x80 arrive through IDT stubs; SYSCALL arrives at syscall_entry. All of them build the same
; struct trapframe (kernel.h) on the current process's kernel stack and call trap() in C.
; trap_return undoes it: IRETQ in general, SYSRET for a frame that SYSCALL built. swtch switches
; kernel stacks between processes (proc.c).

extern trap, syscall_kstack
global isr_table, syscall_entry, trap_return, swtch

section .text

; Vectors for which the CPU pushes an error code: 8, 10-14, 17, 21. For the others the stub
; pushes a 0 so that the frame always has the same shape.
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
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    call trap

trap_return:
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    cmp qword [rsp], 0x100          ; built by syscall_entry?
    je .sysret
    add rsp, 16                     ; vector and error code
    iretq
.sysret:
    ; SYSRET takes RIP from RCX and RFLAGS from R11 (the ABI lets SYSCALL clobber both).
    ; Interrupts are off here, so nothing can arrive between loading the user RSP and SYSRET.
    mov rcx, [rsp + 16]             ; rip
    mov r11, [rsp + 32]             ; rflags
    mov rsp, [rsp + 40]             ; user rsp
    o64 sysret

; SYSCALL: RCX = user RIP, R11 = user RFLAGS, IF already cleared by SFMASK, and still on the user
; stack. There is one CPU, so the user RSP can wait in a global while we find the kernel stack.
syscall_entry:
    mov [rel syscall_user_rsp], rsp
    mov rsp, [rel syscall_kstack]
    push 0x23                       ; ss (SEL_UDATA)
    push qword [rel syscall_user_rsp]
    push r11                        ; rflags
    push 0x2B                       ; cs (SEL_UCODE)
    push rcx                        ; rip
    push 0                          ; error code
    push 0x100                      ; "vector": VEC_SYSCALL
    jmp trap_common

; swtch(uint64_t *save_rsp, uint64_t new_rsp): save the callee-saved registers on this stack,
; store its pointer, load the other stack, and return into whatever that stack last did.
swtch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

section .rodata
align 8
isr_table:                          ; the stub of each vector 0..31, then 32, 39, 128
%assign v 0
%rep 32
    dq isr %+ v
%assign v v+1
%endrep
    dq isr32
    dq isr39
    dq isr128

section .bss
alignb 8
syscall_user_rsp: resq 1
