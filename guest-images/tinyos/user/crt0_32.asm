; crt0_32.asm: crt0.asm for the 32-bit kernel (tinyos32): the same header (the entry is a dword
; and a zero dword), _start calling main(arg) with the argument string that arrives in EBX, and
; try_fault with the cdecl convention.

extern main, text_end, file_end, bss_end
global _start, try_fault, fault_error, fault_cr2

section .header progbits alloc noexec nowrite align=8
    dd 0x31534F54                   ; "TOS1"
    dd text_end
    dd file_end
    dd bss_end
    dd _start, 0

section .text
bits 32
_start:
    and esp, -16
    sub esp, 12
    push ebx                        ; main(arg)
    call main
    mov ebx, eax
    mov eax, 2                      ; SYS_EXIT
    int 0x80
    ud2

; long try_fault(void (*fn)(void *), void *arg): as in crt0.asm; the kernel resumes at .caught
; with vector, error code and CR2 in EAX, EDX, ECX.
try_fault:
    push ebp
    push ebx
    push esi
    push edi
    mov eax, 11                     ; SYS_ONFAULT(.caught, esp)
    mov ebx, .caught
    mov ecx, esp
    int 0x80
    mov eax, [esp + 20]             ; fn
    push dword [esp + 24]           ; arg
    call eax
    add esp, 4
    mov eax, 11                     ; cancel the handler
    xor ebx, ebx
    xor ecx, ecx
    int 0x80
    xor eax, eax
    jmp .out
.caught:
    mov [fault_error], edx
    mov dword [fault_error + 4], 0
    mov [fault_cr2], ecx
    mov dword [fault_cr2 + 4], 0
    inc eax
.out:
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

section .bss
alignb 8
fault_error: resq 1
fault_cr2: resq 1
