; systest16.asm: the real-mode companion of systest.asm, compared between QEMU and ringvm by
; test/system/qemu-compare.test.ts. From the multiboot 32-bit entry it prepares "unreal" FS (a
; 4 GiB limit cached while in protected mode), drops to 16-bit protected mode and then to real
; mode, running a blob copied below 1 MiB: INT n, #DE and #UD through its own IVT entries, IRET,
; PUSHF/POPF, far CALL/RETF, a 32-bit access above 1 MiB through the unreal FS, then back to
; protected mode for the exit. Exit: 0x10 -> status 33.

bits 32
org 0x100000

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000
mb_header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header, mb_header, load_end, load_end, start

COM1        equ 0x3F8
REAL_BASE   equ 0x8000
CODE16      equ 0x08
DATA16      equ 0x10
CODE32      equ 0x18
DATA32      equ 0x20

start:
    lgdt [gdt_ptr]
    jmp CODE32:.flat
.flat:
    mov ax, DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax                      ; FS keeps this 4 GiB limit into real mode
    mov ss, ax
    mov esp, 0x7000
    cld
    mov esi, section..real.start     ; where the loader put the blob's bytes
    mov edi, REAL_BASE
    mov ecx, real_end - real_start
    rep movsb
    jmp CODE16:REAL_BASE + (pm16 - real_start)

; ---- the blob that runs below 1 MiB (copied to REAL_BASE) --------------------------------------
section .real vstart=REAL_BASE follows=.text
real_start:
bits 16
pm16:                               ; 16-bit protected mode
    mov ax, DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0:real
real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    call uart_init
    mov si, msg_start
    call puts

    ; IVT entries of our own: #DE, #UD, INT 0x30.
    mov word [0 * 4], de_handler
    mov word [0 * 4 + 2], 0
    mov word [6 * 4], ud_handler
    mov word [6 * 4 + 2], 0
    mov word [0x30 * 4], int30
    mov word [0x30 * 4 + 2], 0

    mov ax, 0x1234
    stc
    int 0x30                        ; the handler prints the frame
    xor dx, dx
    xor bx, bx
    mov ax, 7
    div bx                          ; #DE: IP of the DIV is pushed; the handler skips it (2 bytes)
    ud2                             ; #UD: the handler skips 2 bytes

    ; PUSHF/POPF round trip with DF and CF.
    std
    stc
    pushf
    pop ax
    cld
    mov si, msg_flags
    call puts
    call hex16
    call newline

    ; far CALL into an aliased segment, RETF back.
    call 0x0700:(far_target - 0x7000)
    mov si, msg_back
    call puts

    ; Unreal mode: FS still has the 4 GiB limit cached, read the multiboot magic at 1 MiB.
    mov esi, 0x100000
    mov eax, [fs:esi]
    mov si, msg_unreal
    call puts
    ror eax, 16
    call hex16
    ror eax, 16
    call hex16
    call newline

    ; Back to 32-bit protected mode to leave.
    cli
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword CODE32:exit32

int30:
    push bp
    mov bp, sp
    mov si, msg_int
    call puts
    mov ax, [bp + 2]                ; IP
    call hex16
    call space
    mov ax, [bp + 4]                ; CS
    call hex16
    call space
    mov ax, [bp + 6]                ; FLAGS
    call hex16
    call space
    pushf
    pop ax                          ; FLAGS inside the handler: IF and TF clear
    call hex16
    call newline
    pop bp
    iret

de_handler:
    push bp
    mov bp, sp
    mov si, msg_de
    call puts
    mov ax, [bp + 2]
    call hex16
    call newline
    add word [bp + 2], 2            ; skip DIV BX
    pop bp
    iret

ud_handler:
    push bp
    mov bp, sp
    mov si, msg_ud
    call puts
    mov ax, [bp + 2]
    call hex16
    call newline
    add word [bp + 2], 2
    pop bp
    iret

far_target:                         ; reached as 0700:xxxx
    push bp
    mov bp, sp
    mov si, msg_far - 0x7000        ; CS is 0700 here: offsets are 0x7000 lower
    call puts
    mov ax, cs
    call hex16
    call space
    mov ax, [bp + 2]
    call hex16
    call space
    mov ax, [bp + 4]
    call hex16
    call newline
    pop bp
    retf

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

; puts: the string at CS:SI (the blob's data is addressed through CS so it works from 0700:xxxx).
puts:
    push ax
.next:
    cs lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop ax
    ret

space:
    push ax
    mov al, ' '
    call putc
    pop ax
    ret

newline:
    push ax
    mov al, 13
    call putc
    mov al, 10
    call putc
    pop ax
    ret

hex16:
    push ax
    push bx
    push cx
    mov bx, ax
    mov cx, 16
.digit:
    sub cx, 4
    mov ax, bx
    shr ax, cl
    and ax, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    call putc
    test cx, cx
    jnz .digit
    pop cx
    pop bx
    pop ax
    ret

msg_start:  db "systest16: real mode", 13, 10, 0
msg_int:    db "int30 ", 0
msg_de:     db "#DE at ", 0
msg_ud:     db "#UD at ", 0
msg_flags:  db "pushf ", 0
msg_far:    db "far ", 0
msg_back:   db "retf ok", 13, 10, 0
msg_unreal: db "unreal ", 0
real_end:

; ---- back in the 32-bit image -----------------------------------------------------------------------
section .text
bits 32
exit32:
    mov ax, DATA32
    mov ds, ax
    mov dx, COM1
    mov esi, msg_done
.next:
    lodsb
    test al, al
    jz .out
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    jmp .next
.out:
    mov al, 0x10
    out 0xF4, al
    hlt

msg_done: db "done", 13, 10, 0

align 8
gdt:
    dq 0
    dq 0x00009A000000FFFF           ; 0x08 16-bit code, base 0, 64 KiB
    dq 0x000092000000FFFF           ; 0x10 16-bit data, base 0, 64 KiB
    dq 0x00CF9A000000FFFF           ; 0x18 32-bit code, flat
    dq 0x00CF92000000FFFF           ; 0x20 32-bit data, flat
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt

; The loader copies the .text part and the blob that follows it in the file.
load_end equ section..real.start + (real_end - real_start)
