; exc32.asm: exceptions in 32-bit protected mode (paging off), each printed with its vector, error
; code and frame: #DE #DB #BP #OF #BR #UD #NM #NP #GP #SS #DF, segment limit and type checks,
; INT n through absent, out-of-limit and DPL-0 gates, and the stack switch to SS0:ESP0 when ring 3
; is interrupted.

%include "common.inc"
%include "lib32.inc"

main:
    PRINT "exc32", 10
    mov eax, 0x81                   ; DPL 3
    mov edx, show_frame
    mov ebx, 0x60
    call set_gate
    mov eax, 0x82                   ; DPL 0
    mov edx, show_frame
    xor ebx, ebx
    call set_gate

    PRINT "div by zero: "
    TRY
    xor edx, edx
    xor ecx, ecx
    mov eax, 1
    div ecx
    ENDTRY
    PRINT "idiv overflow: "
    TRY
    mov edx, 0x80000000 >> 31
    neg edx                         ; EDX:EAX = -2^31 ...
    mov eax, 0x80000000
    mov ecx, -1                     ; ... / -1 does not fit
    idiv ecx
    ENDTRY
    PRINT "int3: "
    TRY
    int3
    ENDTRY
    PRINT "into with OF=1: "
    TRY
    mov al, 0x7F
    add al, 1
    into
    ENDTRY
    PRINT "into with OF=0: "
    TRY
    xor eax, eax
    into
    ENDTRY
    PRINT "bound out of range: "
    TRY
    mov eax, 11
    bound eax, [bounds]
    ENDTRY
    PRINT "bound in range: "
    TRY
    mov eax, 10
    bound eax, [bounds]
    ENDTRY
    PRINT "ud2: "
    TRY
    ud2
    ENDTRY
    PRINT "lock nop: "
    TRY
    db 0xF0, 0x90                   ; LOCK NOP
    ENDTRY
    PRINT "fninit with CR0.EM: "
    mov eax, cr0
    or eax, 1 << 2
    mov cr0, eax
    TRY
    fninit
    ENDTRY
    mov eax, cr0
    and eax, ~(1 << 2)
    mov cr0, eax
    PRINT "mov ds, not-present: "
    TRY
    mov ax, K_DATA_NP
    mov ds, ax
    ENDTRY
    PRINT "mov ds, past GDT limit: "
    TRY
    mov ax, 0x1230
    mov ds, ax
    ENDTRY
    PRINT "mov ss, null: "
    TRY
    xor eax, eax
    mov ss, ax
    ENDTRY
    PRINT "mov ss, code segment: "
    TRY
    mov ax, K_CODE
    mov ss, ax
    ENDTRY
    PRINT "mov ds, ring-3 data at CPL 0 (allowed): "
    TRY
    mov ax, U_DATA | 3
    mov ds, ax
    ENDTRY
    mov ax, K_DATA
    mov ds, ax
    PRINT "read through a null ES at "
    mov eax, .nullread
    call puthex8
    PRINT ": "
    TRY
    xor eax, eax
    mov es, ax
.nullread:
    mov eax, [es:0x1000]
    ENDTRY
    mov ax, K_DATA
    mov es, ax
    PRINT "write through CS at "
    mov eax, .cswrite
    call puthex8
    PRINT ": "
    TRY
.cswrite:
    mov dword [cs:scratch], 1
    ENDTRY
    PRINT "read past a 4 KiB data segment limit at "
    mov eax, .limread
    call puthex8
    PRINT ": "
    TRY
    mov ax, K_DATA_4K
    mov es, ax
.limread:
    mov eax, [es:0x1000]
    ENDTRY
    mov ax, K_DATA
    mov es, ax
    PRINT "dword read straddling the limit at "
    mov eax, .strad
    call puthex8
    PRINT ": "
    TRY
    mov ax, K_DATA_4K
    mov es, ax
.strad:
    mov eax, [es:0xFFE]
    ENDTRY
    mov ax, K_DATA
    mov es, ax
    PRINT "int 0x40, gate absent: "
    mov eax, 0x40
    mov edx, exc_stubs
    mov ebx, 0x200
    call set_gate
    TRY
    int 0x40
    ENDTRY
    PRINT "int 0x90, past IDT limit: "
    mov word [idt_ptr], 0x90 * 8 - 1
    lidt [idt_ptr]
    TRY
    int 0x90
    ENDTRY
    mov word [idt_ptr], 256 * 8 - 1
    lidt [idt_ptr]
    PRINT "ring 0 int 0x82: "
    TRY
    int 0x82
    ENDTRY
    PRINT "ring 3 int 0x81 (DPL 3): "
    TRY
    call user_mode
    int 0x81
    int 0x80
    ENDTRY
    PRINT "ring 3 int 0x82 (DPL 0): "
    TRY
    call user_mode
    int 0x82
    int 0x80
    ENDTRY
    PRINT "ring 3 ud2 (stack switch to SS0:ESP0): "
    TRY
    call user_mode
    ud2
    ENDTRY
    PRINT "ring 3 read through the flat ring-3 DS: "
    TRY
    call user_mode
    mov eax, [0x0]                  ; DS is flat: allowed
    int 0x80
    ENDTRY
    PRINT "iretd to ring 3 with a null SS: "
    TRY
    push dword 0
    push dword ustack_top
    push dword 2
    push dword U_CODE | 3
    push dword .never
    iretd
.never:
    int 0x80
    ENDTRY
    ; rings 1 and 2: code/data for both, a DPL-2 call gate to ring 1 at 0x70
    mov dword [gdt + 0x58], 0x0000FFFF
    mov dword [gdt + 0x5C], 0x00CFDA00 ; 0x58 ring-2 code
    mov dword [gdt + 0x60], 0x0000FFFF
    mov dword [gdt + 0x64], 0x00CFD200 ; 0x60 ring-2 data
    mov dword [gdt + 0x68], 0x0000FFFF
    mov dword [gdt + 0x6C], 0x00CFBA00 ; 0x68 ring-1 code
    mov dword [gdt + 0x78], 0x0000FFFF
    mov dword [gdt + 0x7C], 0x00CFB200 ; 0x78 ring-1 data
    mov eax, ring1_target
    mov [gdt + 0x70], ax
    mov word [gdt + 0x72], 0x68
    mov word [gdt + 0x74], 0xCC00   ; present, DPL 2, 32-bit call gate, no parameters
    shr eax, 16
    mov [gdt + 0x76], ax
    mov dword [tss + 12], ustack_top - 256 ; ESP1
    mov dword [tss + 16], K_DATA    ; SS1: a DPL-0 segment, wrong for CPL 1
    PRINT "ring 2 far call through a gate to ring 1, TSS.SS1 invalid: "
    TRY
    call ring2
    call 0x70 | 2:0
    int 0x80
    ENDTRY
    mov dword [tss + 16], 0x78 | 1  ; SS1: ring-1 data
    PRINT "same with a valid TSS.SS1: "
    TRY
    call ring2
    call 0x70 | 2:0
    mov [saved_esp], esp
    int 0x80
    ENDTRY
    PRINT "back in ring 2 after RETF, esp="
    mov eax, [saved_esp]
    call puthex8
    PRINT 10

    PRINT "iretd to ring 3 with DS/ES/GS = ring-0 data, FS = ring-3 data: "
    TRY
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov gs, ax
    mov ax, U_DATA | 3
    mov fs, ax
    push dword U_DATA | 3
    push dword ustack_top
    push dword 2
    push dword U_CODE | 3
    push dword .r3segs
    iretd
.r3segs:
    mov [ss:r3_segs], ds            ; through SS: DS may be null now
    mov [ss:r3_segs + 2], es
    mov [ss:r3_segs + 4], fs
    mov [ss:r3_segs + 6], gs
    int 0x80
    ENDTRY
    mov ax, K_DATA
    mov fs, ax
    mov gs, ax
    PRINT "ring 3 saw ds/es/fs/gs = "
    movzx eax, word [r3_segs]
    mov ecx, 4
    call puthex
    PRINT "/"
    movzx eax, word [r3_segs + 2]
    call puthex
    PRINT "/"
    movzx eax, word [r3_segs + 4]
    call puthex
    PRINT "/"
    movzx eax, word [r3_segs + 6]
    call puthex
    PRINT 10

    PRINT "#NP inside #NP delivery gives #DF: "
    mov eax, 11
    mov edx, exc_stubs
    mov ebx, 0x200
    call set_gate
    TRY
    int 0x40
    ENDTRY
    mov eax, 11
    mov edx, exc_stubs + 11 * 16
    xor ebx, ebx
    call set_gate
    ret

; ring2: return to the caller in ring 2 (stack at ustack_top - 512).
ring2:
    pop edi
    mov ax, 0x60 | 2                ; ring-2 data in DS/ES (IRET would null DPL-0 ones)
    mov ds, ax
    mov es, ax
    push dword 0x60 | 2
    push dword ustack_top - 512
    push dword 2
    push dword 0x58 | 2
    push edi
    iretd

; ring1_target: ring 1, through the call gate: print what the CPU pushed, RETF to ring 2.
ring1_target:
    push ebx
    lea ebx, [esp + 4]
    PRINT "in ring 1: cs="
    mov eax, cs
    mov ecx, 4
    call puthex
    PRINT " ss="
    mov eax, ss
    call puthex
    PRINT " pushed eip="
    mov eax, [ebx]
    call puthex8
    PRINT " cs="
    mov eax, [ebx + 4]
    call puthex
    PRINT " esp="
    mov eax, [ebx + 8]
    call puthex8
    PRINT " ss="
    mov eax, [ebx + 12]
    call puthex
    PRINT " at="
    mov eax, ebx
    call puthex8
    PRINT 10
    pop ebx
    retf

align 4
r3_segs:   dw 0, 0, 0, 0
saved_esp: dd 0
bounds:  dd 0, 10
scratch: dd 0

%include "end32.inc"
