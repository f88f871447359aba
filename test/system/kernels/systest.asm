; systest.asm: a multiboot v1 kernel that exercises the system layer and prints what it observes,
; so its serial output can be compared between QEMU and ringvm (test/system/qemu-compare.test.ts).
; It enters long mode, installs a GDT, a 64-bit TSS and an IDT whose stubs print every exception
; frame (vector, error code, RIP, CS, RFLAGS, RSP, SS, CR2), provokes faults at CPL 0, goes to
; ring 3 with IRETQ and provokes faults, INT n, SYSCALL and sensitive instructions there, then
; leaves through isa-debug-exit (0x10 -> status 33 on success, 0x11 -> 35 on an unexpected trap).
; Build: nasm -f bin -o systest.bin systest.asm (the test does this in a temporary directory).

bits 32
org 0x100000

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000
mb_header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header, mb_header, load_end, bss_end, start32

COM1        equ 0x3F8
EXIT_PORT   equ 0xF4

K_CODE      equ 0x08                ; 64-bit ring-0 code
K_DATA      equ 0x10
U_CODE32    equ 0x18                ; STAR[63:48] base: SS = +8, CS64 = +16
U_DATA      equ 0x20
U_CODE64    equ 0x28
TSS_SEL     equ 0x30
NP_DATA     equ 0x40                ; a data descriptor that is not present

start32:
    lgdt [gdt_ptr]
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, kstack_top
    cld
    mov edi, tables_start
    mov ecx, (tables_end - tables_start) / 4
    xor eax, eax
    rep stosd
    ; Identity map 0..8 MiB with 2 MiB user pages, except 6..8 MiB: supervisor only.
    mov dword [pml4], pdpt + 7
    mov dword [pdpt], pd + 7
    mov dword [pd + 0], 0x000000 + 0x87
    mov dword [pd + 8], 0x200000 + 0x87
    mov dword [pd + 16], 0x400000 + 0x87
    mov dword [pd + 24], 0x600000 + 0x83
    mov eax, cr4
    or eax, 1 << 5
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, (1 << 8) | 1            ; LME, SCE
    wrmsr
    mov eax, cr0
    or eax, 1 << 31
    mov cr0, eax
    jmp K_CODE:start64

bits 64
start64:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, kstack_top
    call uart_init

    ; TSS descriptor (16 bytes) and the TSS itself: RSP0 and an I/O map base past the limit.
    mov rax, tss
    mov word [gdt + TSS_SEL], 0x67
    mov [gdt + TSS_SEL + 2], ax
    shr rax, 16
    mov [gdt + TSS_SEL + 4], al
    mov byte [gdt + TSS_SEL + 5], 0x89
    mov [gdt + TSS_SEL + 7], ah
    mov qword [tss + 4], kstack_top
    mov word [tss + 0x66], 0x68
    mov ax, TSS_SEL
    ltr ax

    ; IDT: 32 exception stubs (DPL 0 except #BP, DPL 3) and INT 0x80 (DPL 3).
    xor ecx, ecx
.idt:
    mov rax, [stubs + rcx * 8]
    mov edx, 0x8E00
    cmp ecx, 3
    jne .dpl0
    mov edx, 0xEE00
.dpl0:
    call set_gate
    inc ecx
    cmp ecx, 32
    jne .idt
    mov ecx, 0x80
    mov rax, int80
    mov edx, 0xEE00
    call set_gate
    lidt [idt_ptr]

    ; SYSCALL: STAR, LSTAR, FMASK.
    mov ecx, 0xC0000081
    xor eax, eax
    mov edx, (U_CODE32 << 16) | K_CODE
    wrmsr
    mov ecx, 0xC0000082
    mov rax, syscall_entry
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, 0xC0000084
    mov eax, 0x700                  ; clear TF, IF, DF
    xor edx, edx
    wrmsr

    lea rsi, [rel msg_start]
    call puts

    ; ---- CPL 0 faults ------------------------------------------------------------------------
    mov qword [resume], .k1
    ud2
.k1:
    mov qword [resume], .k2
    mov ax, 0x1234                  ; beyond the GDT limit: #GP(0x1230)
    mov ds, ax
.k2:
    mov qword [resume], .k3
    mov ax, NP_DATA
    mov es, ax                      ; not present: #NP(0x40)
.k3:
    mov qword [resume], .k4
    mov rax, [0x40000000]           ; not mapped: #PF(0), CR2
.k4:
    mov qword [resume], .k5
    mov qword [0x40001000], 1       ; not mapped, write: #PF(2)
.k5:
    mov qword [resume], .k6
    mov rax, 0x0000800000000000
    mov rbx, [rax]                  ; non-canonical: #GP(0)
.k6:
    int 0x80
    ; (CR4 reserved-bit and PAE-clearing checks are unit-tested only: QEMU 7.2's TCG accepts both.)
.k7:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax

    ; ---- to ring 3 ---------------------------------------------------------------------------
    push U_DATA | 3
    push ustack_top
    push 0x2
    push U_CODE64 | 3
    push user
    iretq

user:
    mov qword [resume], .u1
    cli                             ; IOPL 0: #GP(0)
.u1:
    mov qword [resume], .u2
    hlt                             ; #GP(0)
.u2:
    mov qword [resume], .u3
    in al, 0x60                     ; no I/O bitmap: #GP(0)
.u3:
    mov qword [resume], .u4
    mov rax, [0x600000]             ; supervisor page: #PF(5)
.u4:
    mov qword [resume], .u5
    mov rax, cr0                    ; #GP(0)
.u5:
    int3
    int 0x80
    mov qword [resume], .u6
    mov byte [errmask], 1           ; QEMU reports 0x81*16+2 here, the SDM says 0x81*8+2: print the
    int 0x81                        ; low bits only (beyond the IDT limit: #GP with IDT = 1, at the INT)
.u6:
    sgdt [sbuf]
    sidt [sbuf + 16]
    str word [sbuf + 32]
    smsw word [sbuf + 34]
    mov ax, cs
    mov [sbuf + 36], ax
    mov ax, ss
    mov [sbuf + 38], ax
    mov eax, 1
    syscall                         ; prints the sensitive values and RCX/R11
    mov eax, 99
    syscall                         ; exit

; ---- kernel entry points ------------------------------------------------------------------------

syscall_entry:
    mov [user_rsp], rsp
    mov rsp, kstack2_top
    push rcx
    push r11
    cmp eax, 99
    je .exit
    lea rsi, [rel msg_sys]
    call puts
    mov rax, [rsp + 8]
    call hex64
    call space
    mov rax, [rsp]
    call hex64
    call space
    mov ax, cs
    call hex16
    call space
    mov ax, ss
    call hex16
    call newline
    lea rsi, [rel msg_sens]
    call puts
    mov rax, [sbuf + 2]
    call hex64
    call space
    movzx eax, word [sbuf]
    call hex16
    call space
    mov rax, [sbuf + 18]
    call hex64
    call space
    movzx eax, word [sbuf + 16]
    call hex16
    call space
    mov rax, [sbuf + 32]
    call hex64
    call newline
    pop r11
    pop rcx
    mov rsp, [user_rsp]
    o64 sysret
.exit:
    lea rsi, [rel msg_done]
    call puts
    mov al, 0x10
    out EXIT_PORT, al
    hlt

int80:
    push 0
    push 0x80
    jmp trap_common

%macro STUB 1
stub%1:
%if (%1 = 8) || (%1 >= 10 && %1 <= 14) || (%1 = 17) || (%1 = 21)
%else
    push 0
%endif
    push %1
    jmp trap_common
%endmacro
%assign i 0
%rep 32
STUB i
%assign i i + 1
%endrep

; Frame: [rsp] vector, +8 error code, +16 RIP, +24 CS, +32 RFLAGS, +40 RSP, +48 SS.
trap_common:
    push rax
    push rcx
    push rdx
    push rsi
    lea rsi, [rel msg_trap]
    call puts
    mov rax, [rsp + 32]
    call hex16
    call space
    mov rax, [rsp + 40]
    cmp byte [errmask], 0
    je .fullerr
    and eax, 3
    mov byte [errmask], 0
.fullerr:
    call hex32
    call space
    mov rax, [rsp + 48]
    call hex64
    call space
    mov rax, [rsp + 56]
    call hex16
    call space
    mov rax, [rsp + 64]
    call hex32
    call space
    mov rax, [rsp + 72]
    call hex64
    call space
    mov rax, [rsp + 80]
    call hex16
    cmp qword [rsp + 32], 14
    jne .nocr2
    call space
    mov rax, cr2
    call hex64
.nocr2:
    call newline
    mov rax, [resume]
    test rax, rax
    jz .noresume
    mov [rsp + 48], rax             ; continue at the recovery point
    mov qword [resume], 0
    jmp .out
.noresume:
    mov rax, [rsp + 32]             ; traps (INT n, INT3) return normally; anything else is fatal
    cmp rax, 0x80
    je .out
    cmp rax, 3
    je .out
    lea rsi, [rel msg_unexpected]
    call puts
    mov al, 0x11
    out EXIT_PORT, al
    hlt
.out:
    pop rsi
    pop rdx
    pop rcx
    pop rax
    add rsp, 16
    iretq

; set_gate: IDT entry RCX -> handler RAX, type/DPL/P word in DX.
set_gate:
    push rdi
    mov rdi, rcx
    shl rdi, 4
    add rdi, idt
    mov [rdi], ax
    mov word [rdi + 2], K_CODE
    mov [rdi + 4], dx
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov dword [rdi + 12], 0
    pop rdi
    ret

; ---- serial output --------------------------------------------------------------------------------

uart_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 3
    out dx, al
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al
    mov dx, COM1 + 4
    mov al, 3
    out dx, al
    ret

putc:
    push rdx
    push rax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

puts:
    push rax
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop rax
    ret

space:
    push rax
    mov al, ' '
    call putc
    pop rax
    ret

newline:
    push rax
    mov al, 13
    call putc
    mov al, 10
    call putc
    pop rax
    ret

hex16:
    push rcx
    mov ecx, 4
    jmp hexn
hex32:
    push rcx
    mov ecx, 8
    jmp hexn
hex64:
    push rcx
    mov ecx, 16
; hexn: the low RCX nibbles of RAX, most significant first (RCX pushed by the entry point).
hexn:
    push rax
    push rbx
    mov rbx, rax
    shl ecx, 2
.digit:
    sub ecx, 4
    mov rax, rbx
    shr rax, cl
    and eax, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    call putc
    test ecx, ecx
    jnz .digit
    pop rbx
    pop rax
    pop rcx
    ret

; ---- data -------------------------------------------------------------------------------------------

msg_start:      db "systest: long mode", 13, 10, 0
msg_trap:       db "trap ", 0
msg_sys:        db "syscall ", 0
msg_sens:       db "sensitive ", 0
msg_done:       db "done", 13, 10, 0
msg_unexpected: db "unexpected trap", 13, 10, 0

align 8
stubs:
%assign i 0
%rep 32
    dq stub %+ i
%assign i i + 1
%endrep

align 16
gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08 ring-0 code64
    dq 0x00CF92000000FFFF           ; 0x10 ring-0 data
    dq 0x00CFFA000000FFFF           ; 0x18 ring-3 code32
    dq 0x00CFF2000000FFFF           ; 0x20 ring-3 data
    dq 0x00AFFA000000FFFF           ; 0x28 ring-3 code64
    dq 0, 0                         ; 0x30 TSS (filled in)
    dq 0x00CF12000000FFFF           ; 0x40 data, not present
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dq gdt

idt_ptr:
    dw 0x81 * 16 - 1
    dq idt

load_end:

; ---- bss ----------------------------------------------------------------------------------------

section .bss
alignb 4096
tables_start:
pml4:   resb 4096
pdpt:   resb 4096
pd:     resb 4096
tables_end:
idt:    resb 0x81 * 16
alignb 16
tss:    resb 0x68
resume: resq 1
errmask: resb 8
user_rsp: resq 1
sbuf:   resb 64
alignb 16
        resb 4096
kstack_top:
        resb 4096
kstack2_top:
        resb 4096
ustack_top:
bss_end:
