; io32.asm: I/O protection from ring 3 in 32-bit protected mode. With CPL > IOPL, IN/OUT/INS/OUTS
; consult the TSS I/O permission bitmap (every byte of the access must be allowed; the CPU reads
; two bitmap bytes, so a bitmap ending exactly at the TSS limit without the extra 0xFF byte
; faults); CLI/STI fault; POPF leaves IOPL and IF alone. With CPL <= IOPL everything is allowed.

%include "common.inc"
%include "lib32.inc"

%macro ALLOW 1                      ; clear the port's bit (an immediate bit offset would wrap)
    mov eax, %1
    btr [tss + TSS_BITMAP], eax
%endmacro

main:
    PRINT "io32", 10
    ; deny every port, then allow 0x80, 0x82-0x83 and 0x3FF
    mov edi, tss + TSS_BITMAP
    mov ecx, 8192 / 4
    mov eax, -1
    rep stosd
    ALLOW 0x80
    ALLOW 0x82
    ALLOW 0x83
    ALLOW 0x3FF

    PRINT "ring 3, IOPL 0: in al, 0x80 (allowed): "
    TRY
    call user_mode
    in al, 0x80
    int 0x80
    ENDTRY
    PRINT "in al, 0x81 (denied): "
    TRY
    call user_mode
    in al, 0x81
    int 0x80
    ENDTRY
    PRINT "in ax, 0x80 (0x81 denied): "
    TRY
    call user_mode
    in ax, 0x80
    int 0x80
    ENDTRY
    PRINT "in ax, 0x82 (both allowed): "
    TRY
    call user_mode
    in ax, 0x82
    int 0x80
    ENDTRY
    PRINT "in eax, 0x82 (0x84, 0x85 denied): "
    TRY
    call user_mode
    in eax, 0x82
    int 0x80
    ENDTRY
    PRINT "out dx, al with dx=0x3FF (allowed): "
    TRY
    call user_mode
    mov dx, 0x3FF
    out dx, al
    int 0x80
    ENDTRY
    PRINT "insb from 0x80 (allowed): "
    TRY
    call user_mode
    mov dx, 0x80
    mov edi, ustack_top - 64
    insb
    int 0x80
    ENDTRY
    PRINT "outsb to 0x81 (denied): "
    TRY
    call user_mode
    mov dx, 0x81
    mov esi, ustack_top - 64
    outsb
    int 0x80
    ENDTRY
    PRINT "cli: "
    TRY
    call user_mode
    cli
    int 0x80
    ENDTRY
    PRINT "sti: "
    TRY
    call user_mode
    sti
    int 0x80
    ENDTRY
    PRINT "popf of IOPL 3 and IF: "
    TRY
    call user_mode
    push dword 0x3202
    popfd
    pushfd
    pop dword [saved]
    int 0x80
    ENDTRY
    PRINT "eflags after it: "
    mov eax, [saved]
    call puthex8
    PRINT 10

    PRINT "ring 3, IOPL 3: in al, 0x81 and cli (bitmap ignored): "
    TRY
    mov edi, .iopl3
    mov esi, ustack_top
    mov edx, 0x3002
    jmp to_ring3
.iopl3:
    in al, 0x81
    cli
    sti
    int 0x80
    ENDTRY
    PRINT "ring 3, IOPL 3: popf of IOPL 0: "
    TRY
    mov edi, .iopl3b
    mov esi, ustack_top
    mov edx, 0x3202
    jmp to_ring3
.iopl3b:
    push dword 0x0002
    popfd
    pushfd
    pop dword [saved]
    int 0x80
    ENDTRY
    PRINT "eflags after it: "
    mov eax, [saved]
    call puthex8
    PRINT 10
    PRINT "ring 3, IOPL 1: in al, 0x80 (bitmap: allowed): "
    TRY
    mov edi, .iopl1
    mov esi, ustack_top
    mov edx, 0x1002
    jmp to_ring3
.iopl1:
    in al, 0x80
    int 0x80
    ENDTRY

    PRINT "TSS limit cut to end at port 0x3FF's byte, in al, 0x80: "
    call reload_tr
    TRY
    call user_mode
    in al, 0x80
    int 0x80
    ENDTRY
    PRINT "same limit, out dx, al with dx=0x3FF (second bitmap byte past the limit): "
    TRY
    call user_mode
    mov dx, 0x3FF
    out dx, al
    int 0x80
    ENDTRY
    PRINT "same limit, in al, 0x400 (past the bitmap): "
    TRY
    call user_mode
    mov dx, 0x400
    in al, dx
    int 0x80
    ENDTRY
    PRINT "I/O map base past the limit, in al, 0x80: "
    mov word [tss + 102], 0x8000
    TRY
    call user_mode
    in al, 0x80
    int 0x80
    ENDTRY
    PRINT "ring 0, same TSS: in al, 0x80: "
    TRY
    in al, 0x80
    ENDTRY
    ret

; reload_tr: load TR again after changing the TSS descriptor (clear its busy bit first).
reload_tr:
    and byte [gdt.tss + 5], ~2
    mov word [gdt.tss], TSS_BITMAP + 0x80 - 1 ; limit 15..0 (19..16 are already 0)
    mov ax, TSS_SEL
    ltr ax
    ret

align 4
saved: dd 0

%include "end32.inc"
