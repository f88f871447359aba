; sys64.asm: the fast system calls in long mode. SYSCALL from 64-bit ring 3 (RCX, R11, the
; SFMASK-masked RFLAGS, CS/SS from STAR), SYSRET to 64-bit and to compatibility mode (RFLAGS from
; R11 masked with 0x3C7FD7), SYSRET with a non-canonical RCX, SYSCALL with EFER.SCE clear;
; SYSENTER from compatibility mode and from 64-bit mode (Intel), SYSEXIT to both. Where Intel and
; AMD differ (SYSENTER/SYSEXIT in long mode) ringvm is Intel, so QEMU runs this kernel with the
; GenuineIntel vendor (QEMU 7.2 treats any other vendor as AMD there: #UD).

%include "common.inc"
%include "lib64.inc"

MSR_STAR    equ 0xC0000081
MSR_LSTAR   equ 0xC0000082
MSR_CSTAR   equ 0xC0000083
MSR_FMASK   equ 0xC0000084
MSR_SE_CS   equ 0x174
MSR_SE_ESP  equ 0x175
MSR_SE_EIP  equ 0x176
FMASK       equ 0x40700              ; AC, DF, IF, TF

%macro WRMSR64 2                      ; MSR %1 <- %2 (a 64-bit value or label)
    mov ecx, %1
    mov rax, %2
    mov rdx, rax
    shr rdx, 32
    wrmsr
%endmacro

main:
    PRINT "sys64", 10
    mov rax, (U_CODE32 << 48) | (K_CODE << 32)
    WRMSR64 MSR_STAR, rax
    lea rax, [rel syscall_entry]
    WRMSR64 MSR_LSTAR, rax
    WRMSR64 MSR_FMASK, FMASK
    WRMSR64 MSR_SE_CS, K_CODE
    lea rax, [rel kstack_top]
    WRMSR64 MSR_SE_ESP, rax
    lea rax, [rel sysenter_entry]
    WRMSR64 MSR_SE_EIP, rax
    mov eax, 0x81                   ; INT 0x81 (DPL 3) shows the frame: ring 3's CS, SS, RFLAGS
    lea rdx, [rel show_frame]
    mov r8d, 0x60
    call set_gate

    PRINT "syscall with EFER.SCE=0: "
    TRY
    call user_mode
    syscall
    int 0x80
    ENDTRY

    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_SCE
    wrmsr

    PRINT "syscall from 64-bit ring 3, then sysretq: "
    lea rax, [rel sysret64]
    mov [rel sys_next], rax
    TRY
    call user_mode
    push qword 0x40CD7              ; AC OF DF SF ZF AF PF CF: SFMASK clears AC and DF only
    popfq
    mov r11, 0x5A5A
    mov rcx, 0xA5A5
.syscall1:
    syscall
    ud2                             ; SYSRET comes back to back64, not here
    ENDTRY

    PRINT "syscall, then sysretd to compatibility mode: "
    lea rax, [rel sysret32]
    mov [rel sys_next], rax
    TRY
    call user_mode
    syscall
    ud2
    ENDTRY

    PRINT "syscall, then sysretq with a non-canonical RCX, sysretq at "
    lea rax, [rel sysret_bad.insn]
    call puthex16
    PRINT ": "
    lea rax, [rel sysret_bad]
    mov [rel sys_next], rax
    TRY
    call user_mode
    syscall
    ud2
    ENDTRY

    PRINT "sysenter from compatibility mode, then sysexit: "
    lea rax, [rel sysexit32]
    mov [rel sys_next], rax
    TRY
    lea rdi, [rel compat_sysenter]
    lea rsi, [rel ustack_top]
    mov edx, 0x2D7                  ; IF and the arithmetic flags: SYSENTER clears IF only
    push qword U_DATA | 3
    push rsi
    push rdx
    push qword U_CODE32 | 3
    push rdi
    iretq
    ENDTRY

    PRINT "sysexitq from ring 0: "
    TRY
    lea rdx, [rel after_sysexitq]
    lea rcx, [rel ustack_top - 64]
    o64 sysexit
    ENDTRY

    PRINT "sysenter from 64-bit ring 3 (Intel: allowed): "
    lea rax, [rel sysexit64_quiet]
    mov [rel sys_next], rax
    TRY
    call user_mode
    sysenter
    ud2
    ENDTRY
    ret

; SYSCALL lands here at CPL 0 on the ring-3 stack: record what the CPU loaded, then return the
; way sys_next says.
syscall_entry:
    pushfq
    pop qword [rel k_rflags]
    mov [rel k_rcx], rcx
    mov [rel k_r11], r11
    mov ax, cs
    mov [rel k_cs], ax
    mov ax, ss
    mov [rel k_ss], ax
    PRINT "syscall: rflags="
    mov rax, [rel k_rflags]
    mov ecx, 8
    call puthex
    PRINT " r11="
    mov rax, [rel k_r11]
    call puthex
    PRINT " rcx="
    mov rax, [rel k_rcx]
    mov ecx, 16
    call puthex
    PRINT " cs="
    movzx eax, word [rel k_cs]
    mov ecx, 4
    call puthex
    PRINT " ss="
    movzx eax, word [rel k_ss]
    call puthex
    PRINT 10
    jmp [rel sys_next]

sysret64:
    lea rcx, [rel back64]
    mov r11, 0x250ED5               ; ID AC RF OF DF IF SF ZF AF PF CF, bit 1 clear
    o64 sysret
sysret32:
    lea rcx, [rel back32]
    mov r11, 0x202
    sysret                          ; 32-bit form: CS = STAR[63:48], EIP = ECX
sysret_bad:
    mov rcx, 0x0000800000000000
    mov r11, 0x202
.insn:
    o64 sysret

; SYSENTER lands here with RSP = IA32_SYSENTER_ESP.
sysenter_entry:
    pushfq
    pop qword [rel k_rflags]
    mov [rel k_rsp], rsp
    mov ax, cs
    mov [rel k_cs], ax
    mov ax, ss
    mov [rel k_ss], ax
    PRINT "sysenter: rflags="
    mov rax, [rel k_rflags]
    mov ecx, 8
    call puthex
    PRINT " rsp="
    mov rax, [rel k_rsp]
    mov ecx, 16
    call puthex
    PRINT " cs="
    movzx eax, word [rel k_cs]
    mov ecx, 4
    call puthex
    PRINT " ss="
    movzx eax, word [rel k_ss]
    call puthex
    PRINT 10
    jmp [rel sys_next]

sysexit32:
    mov edx, back32                 ; EIP
    lea rcx, [rel ustack_top - 32]  ; ESP
    sysexit
sysexit64_quiet:
    lea rdx, [rel quiet64]
    lea rcx, [rel ustack_top]
    o64 sysexit

; ---- ring-3 landing points ----
back64:                             ; 64-bit ring 3 after SYSRETQ: show RFLAGS and the frame
    pushfq
    pop qword [rel saved_rflags]
    int 0x81
    int 0x80
after_sysexitq:
    int 0x81
    int 0x80
quiet64:
    int 0x80

bits 32
back32:                             ; compatibility-mode ring 3 after SYSRETD / SYSEXIT
    int 0x81
    int 0x80
compat_sysenter:
    sysenter
    ud2
bits 64

align 8
sys_next:    dq 0
k_rflags:    dq 0
k_rcx:       dq 0
k_r11:       dq 0
k_rsp:       dq 0
saved_rflags: dq 0
k_cs:        dw 0
k_ss:        dw 0

%include "end64.inc"
