; sys32.asm: the fast system calls in 32-bit protected mode (legacy mode, no long mode). SYSENTER
; from ring 3 and SYSEXIT back (the flat segments SYSENTER_CS + 0/8/16/24 of lib32's GDT), SYSENTER
; with SYSENTER_CS = 0, SYSEXIT at CPL 3, and SYSCALL, which Intel CPUs only run in 64-bit mode
; (#UD here even with EFER.SCE set; AMD CPUs run it). Run on QEMU as GenuineIntel, like sys64.

%include "common.inc"
%include "lib32.inc"

MSR_SE_CS   equ 0x174
MSR_SE_ESP  equ 0x175
MSR_SE_EIP  equ 0x176
MSR_EFER    equ 0xC0000080

%macro WRMSR32 2
    mov ecx, %1
    mov eax, %2
    xor edx, edx
    wrmsr
%endmacro

main:
    PRINT "sys32", 10
    mov eax, 0x81
    mov edx, show_frame
    mov ebx, 0x60
    call set_gate
    WRMSR32 MSR_SE_CS, K_CODE
    WRMSR32 MSR_SE_ESP, kstack_top - 16
    WRMSR32 MSR_SE_EIP, sysenter_entry

    PRINT "sysenter from ring 3, then sysexit: "
    TRY
    mov edi, .user
    mov esi, ustack_top
    mov edx, 0x2D7                  ; IF and the arithmetic flags: SYSENTER clears IF only
    jmp to_ring3
.user:
    mov ecx, ustack_top - 32        ; for SYSEXIT: ESP
    sysenter
    ud2
    ENDTRY

    PRINT "sysexit at CPL 3: "
    TRY
    call user_mode
    sysexit
    int 0x80
    ENDTRY

    PRINT "sysenter with IA32_SYSENTER_CS = 0: "
    WRMSR32 MSR_SE_CS, 0
    TRY
    call user_mode
    sysenter
    int 0x80
    ENDTRY
    WRMSR32 MSR_SE_CS, K_CODE

    PRINT "syscall in legacy mode, EFER.SCE = 1, at "
    mov eax, .syscall
    call puthex8
    PRINT ": "
    mov ecx, MSR_EFER
    rdmsr
    or eax, 1
    wrmsr
    mov ecx, 0xC0000081             ; STAR: where an AMD-style SYSCALL would go
    mov eax, legacy_syscall
    mov edx, K_CODE
    wrmsr
    TRY
    call user_mode
.syscall:
    syscall
    int 0x80
    ENDTRY
    ret

sysenter_entry:
    pushfd
    pop dword [k_eflags]
    mov [k_esp], esp
    mov [k_cs], cs
    mov [k_ss], ss
    mov [k_ecx], ecx
    PRINT "sysenter: eflags="
    mov eax, [k_eflags]
    call puthex8
    PRINT " esp="
    mov eax, [k_esp]
    call puthex8
    PRINT " cs="
    movzx eax, word [k_cs]
    mov ecx, 4
    call puthex
    PRINT " ss="
    movzx eax, word [k_ss]
    call puthex
    PRINT 10
    mov ecx, [k_ecx]
    mov edx, after_sysexit
    sysexit

; legacy_syscall: only reached where SYSCALL runs outside 64-bit mode (AMD; QEMU in any case).
legacy_syscall:
    mov dx, K_DATA
    mov ds, dx
    mov es, dx
    PRINT "syscall ran", 10
    mov byte [faulted], 1
    mov eax, [resume_ip]
    mov dword [resume_ip], 0
    mov esp, [resume_sp]
    jmp eax

after_sysexit:                      ; ring 3 again: show the frame of an INT from here
    int 0x81
    int 0x80

align 4
k_eflags: dd 0
k_esp:    dd 0
k_ecx:    dd 0
k_cs:     dw 0
k_ss:     dw 0

%include "end32.inc"
