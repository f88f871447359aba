; modes.asm: the mode switches. Multiboot starts it in 32-bit protected mode; it goes down through
; 16-bit protected mode to real mode (a trampoline copied to 0x8000, with its own IVT at 0x7000:
; INT n, a #DE and a segment-limit #GP delivered through the IVT), back up to protected mode, then
; into long mode (PAE, EFER.LME, CR0.PG, a far jump to a 64-bit segment) and out to compatibility
; mode, printing the control registers and segments at each step.

%include "common.inc"
%include "lib32.inc"

RM_BASE   equ 0x8000                ; where the real-mode trampoline runs (CS = DS = 0x0800)
RM_SEG    equ RM_BASE >> 4
RM_IVT    equ 0x7000
MSR_EFER  equ 0xC0000080
%define RM(x) ((x) - rm_start)      ; a trampoline label as an offset in segment 0x0800

main:
    PRINT "modes", 10
    PRINT "protected mode: cr0="
    mov eax, cr0
    call puthex8
    PRINT " cs="
    mov eax, cs
    mov ecx, 4
    call puthex
    PRINT 10
    ; copy the trampoline down and build its IVT: #DE, #GP and INT 0x60
    mov esi, rm_start
    mov edi, RM_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    mov edi, RM_IVT
    mov ecx, 256
    mov eax, (RM_SEG << 16) | RM(rm_unexpected)
    rep stosd
    mov dword [RM_IVT + 0 * 4], (RM_SEG << 16) | RM(rm_de)
    mov dword [RM_IVT + 13 * 4], (RM_SEG << 16) | RM(rm_gp)
    mov dword [RM_IVT + 0x60 * 4], (RM_SEG << 16) | RM(rm_int60)
    mov [saved_esp], esp
    jmp K_CODE16:RM_BASE + RM(pm16)

back32:                             ; from real mode, CS = K_CODE again
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, [saved_esp]
    lidt [idt_ptr]
    PRINT "back in protected mode: cr0="
    mov eax, cr0
    call puthex8
    PRINT 10

    ; long mode: identity-map 8 MiB with 2 MiB pages
    mov dword [pml4], pdpt + 3
    mov dword [pdpt], pd + 3
    mov dword [pd], 0x000083
    mov dword [pd + 8], 0x200083
    mov dword [pd + 16], 0x400083
    mov dword [pd + 24], 0x600083
    lidt [no_idt]                   ; the 32-bit IDT means nothing in long mode: faults shut down
    mov eax, cr4
    or eax, 1 << 5
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, 1 << 8
    wrmsr
    PRINT "EFER.LME set, paging off: efer="
    mov ecx, MSR_EFER
    rdmsr
    call puthex8
    PRINT 10
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    PRINT "paging on, still in a 32-bit segment (compatibility mode): efer="
    mov ecx, MSR_EFER
    rdmsr
    call puthex8
    PRINT " cr0="
    mov eax, cr0
    call puthex8
    PRINT 10
    jmp K_CODE64:long64

bits 64
long64:
    mov rax, 0x123456789
    shr rax, 4
    mov [rel r64], rax
    mov ax, cs
    mov [rel cs64], ax
    lea rax, [rel .here]
    mov [rel rip64], rax
.here:
    push qword K_CODE               ; back to 32-bit code: compatibility mode
    lea rax, [rel compat]
    push rax
    retfq
bits 32
compat:
    PRINT "64-bit mode: cs="
    movzx eax, word [cs64]
    mov ecx, 4
    call puthex
    PRINT " 0x123456789 >> 4 = "
    mov eax, [r64 + 4]
    call puthex8
    mov eax, [r64]
    call puthex8
    PRINT 10
    PRINT "compatibility mode again: cs="
    mov eax, cs
    mov ecx, 4
    call puthex
    PRINT 10
    ret

; ---- the real-mode trampoline (copied to RM_BASE; position-dependent data via RM()) ----------
bits 16
rm_start:
pm16:                               ; 16-bit protected mode: segments with real-mode limits
    mov ax, K_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp RM_SEG:RM(rm_entry)
rm_entry:
    mov ax, RM_SEG
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x2000
    lidt [RM(rm_idtr)]
    mov si, RM(m_real)
    call rm_puts
    mov eax, cr0
    call rm_hex32
    mov si, RM(m_cs)
    call rm_puts
    mov ax, cs
    call rm_hex16
    mov si, RM(m_nl)
    call rm_puts

    mov si, RM(m_int60)
    call rm_puts
    stc
    int 0x60
    mov si, RM(m_div)
    call rm_puts
    xor cx, cx
    mov ax, 1
    xor dx, dx
rm_div_insn:
    div cx                          ; 2 bytes: the #DE handler skips them
    mov si, RM(m_wrap)
    call rm_puts
    mov ax, RM(rm_wrap_insn)
    call rm_hex16
    mov si, RM(m_colon)
    call rm_puts
rm_wrap_insn:
    mov ax, [0xFFFF]                ; a word at offset 0xFFFF crosses the 64 KiB limit (3 bytes)
    mov si, RM(m_after)
    call rm_puts
    mov eax, 0x89ABCDEF             ; operand-size prefix in real mode
    rol eax, 16
    call rm_hex16
    mov si, RM(m_nl)
    call rm_puts

    ; up again: PE on, far jump to the 32-bit code segment
    cli
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword K_CODE:back32

rm_de:                              ; #DE: print the saved IP, skip the 2-byte DIV
    push bp
    mov bp, sp
    mov si, RM(m_de)
    call rm_puts
    mov ax, [bp + 2]
    call rm_hex16
    mov si, RM(m_nl)
    call rm_puts
    add word [bp + 2], 2
    pop bp
    iret
rm_gp:                              ; #GP (no error code in real mode): skip the 3-byte MOV
    push bp
    mov bp, sp
    mov si, RM(m_gp)
    call rm_puts
    mov ax, [bp + 2]
    call rm_hex16
    mov si, RM(m_nl)
    call rm_puts
    add word [bp + 2], 3
    pop bp
    iret
rm_int60:                           ; INT 0x60: print the frame (IP, CS, FLAGS)
    push bp
    mov bp, sp
    mov si, RM(m_frame)
    call rm_puts
    mov ax, [bp + 2]
    call rm_hex16
    mov al, ' '
    call rm_putc
    mov ax, [bp + 4]
    call rm_hex16
    mov al, ' '
    call rm_putc
    mov ax, [bp + 6]
    call rm_hex16
    mov si, RM(m_flags)
    call rm_puts
    pushf
    pop ax
    call rm_hex16
    mov si, RM(m_nl)
    call rm_puts
    pop bp
    iret
rm_unexpected:
    mov si, RM(m_unexp)
    call rm_puts
    mov al, EXIT_FATAL
    out EXIT_PORT, al
    hlt

rm_putc:
    push dx
    push ax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret
rm_puts:
    push ax
.next:
    lodsb
    test al, al
    jz .done
    cmp al, 10
    jne .plain
    mov al, 13
    call rm_putc
    mov al, 10
.plain:
    call rm_putc
    jmp .next
.done:
    pop ax
    ret
rm_hex32:
    push eax
    shr eax, 16
    call rm_hex16
    pop eax
rm_hex16:                           ; AX as 4 hex digits
    push ax
    push cx
    push bx
    mov bx, ax
    mov cx, 4
.d:
    rol bx, 4
    mov al, bl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 'A' - '9' - 1
.p:
    call rm_putc
    loop .d
    pop bx
    pop cx
    pop ax
    ret

rm_idtr:  dw 0x3FF
          dd RM_IVT
m_real:   db "real mode: cr0=", 0
m_cs:     db " cs=", 0
m_nl:     db 10, 0
m_int60:  db "int 0x60 through the IVT: ", 0
m_frame:  db "frame ip cs flags = ", 0
m_flags:  db ", flags in handler = ", 0
m_div:    db "div by zero: ", 0
m_de:     db "#DE, saved ip=", 0
m_wrap:   db "word read at ds:FFFF by the instruction at ip ", 0
m_colon:  db ": ", 0
m_gp:     db "#GP, saved ip=", 0
m_after:  db "32-bit operand in real mode, rol eax,16: ", 0
m_unexp:  db "FATAL: unexpected real-mode interrupt", 10, 0
rm_end:
bits 32

align 8
no_idt:    dw 0
           dd 0
saved_esp: dd 0
cs64:      dw 0
align 8
r64:       dq 0
rip64:     dq 0

%macro KERNEL_BSS 0
alignb 4096
pml4:  resq 512
pdpt:  resq 512
pd:    resq 512
%endmacro
%include "end32.inc"
