; crt0.asm: the start of every user program. The header comes first in the flat binary: the
; kernel (proc.c, struct proghdr) reads it to know which pages are read-only text, how many bytes
; come from the file, where bss ends, and where to start. _start calls main(arg) and exits with
; its result. try_fault is here too because it must control the stack exactly (ulib.h).

extern main, text_end, file_end, bss_end
global _start, try_fault

section .header progbits alloc noexec nowrite align=8
    dd 0x31534F54                   ; "TOS1"
    dd text_end
    dd file_end
    dd bss_end
    dq _start

section .text
_start:                             ; RDI = the argument string, RSP = the top of the stack
    and rsp, -16
    call main
    mov edi, eax
    mov eax, 2                      ; SYS_EXIT
    syscall
    ud2

; long try_fault(void (*fn)(void *), void *arg): runs fn(arg); returns 0 if it returned, or
; 1 + vector if it faulted, with the error code and CR2 in fault_error and fault_cr2. The kernel
; (SYS_ONFAULT) resumes at .caught on the stack we had here, with vector, error, CR2 in RDI/RSI/RDX.
global fault_error, fault_cr2
try_fault:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov r12, rdi
    mov r13, rsi
    lea rdi, [rel .caught]
    mov rsi, rsp
    mov eax, 11                     ; SYS_ONFAULT
    syscall
    mov rdi, r13
    call r12
    xor edi, edi
    xor esi, esi
    mov eax, 11                     ; cancel the handler
    syscall
    xor eax, eax
    jmp .out
.caught:
    mov [rel fault_error], rsi
    mov [rel fault_cr2], rdx
    lea rax, [rdi + 1]
.out:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

section .bss
alignb 8
fault_error: resq 1
fault_cr2: resq 1
