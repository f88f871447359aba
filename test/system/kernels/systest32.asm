; systest32.asm: the 32-bit protected-mode companion of systest.asm, compared between QEMU and
; ringvm by test/system/qemu-compare.test.ts. It stays in 32-bit protected mode with 4 MiB pages,
; and exercises 32-bit interrupt/trap gates, the TSS stack switch on a ring-3 -> ring-0 interrupt,
; a call gate with a parameter (CALL far / RETF imm16 across rings), SYSENTER/SYSEXIT, and faults
; at CPL 0 and 3, printing every frame. Exit: 0x10 -> status 33; 0x11 -> 35 on an unexpected trap.

bits 32
org 0x100000

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000
mb_header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header, mb_header, load_end, bss_end, start

COM1        equ 0x3F8
EXIT_PORT   equ 0xF4
K_CODE      equ 0x08
K_DATA      equ 0x10
U_CODE      equ 0x18
U_DATA      equ 0x20
TSS_SEL     equ 0x28
GATE_SEL    equ 0x30
NP_DATA     equ 0x38
DF_TSS_SEL  equ 0x40                ; the double-fault task

start:
    lgdt [gdt_ptr]
    jmp K_CODE:.reload
.reload:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, kstack_top
    cld
    call uart_init

    ; TSS: ESP0/SS0, I/O map base past the limit.
    mov eax, tss
    mov [gdt + TSS_SEL + 2], ax
    shr eax, 16
    mov [gdt + TSS_SEL + 4], al
    mov [gdt + TSS_SEL + 7], ah
    mov dword [tss + 4], kstack_top
    mov dword [tss + 8], K_DATA
    mov dword [tss + 0x1c], pgdir   ; CR3 is loaded, not saved, by a task switch back to us
    mov word [tss + 0x66], 0x68
    mov ax, TSS_SEL
    ltr ax
    ; The double-fault task: its own TSS, stack and entry point; IDT[8] is a task gate to it.
    mov eax, df_tss
    mov [gdt + DF_TSS_SEL + 2], ax
    shr eax, 16
    mov [gdt + DF_TSS_SEL + 4], al
    mov [gdt + DF_TSS_SEL + 7], ah
    mov dword [df_tss + 0x1c], pgdir
    mov dword [df_tss + 0x20], df_task
    mov dword [df_tss + 0x24], 0x2
    mov dword [df_tss + 0x38], dfstack_top
    mov dword [df_tss + 0x48], K_DATA
    mov dword [df_tss + 0x4c], K_CODE
    mov dword [df_tss + 0x50], K_DATA
    mov dword [df_tss + 0x54], K_DATA
    mov word [df_tss + 0x66], 0x68
    ; Call gate: ring 3 may call gate_target at ring 0 with one dword parameter.
    mov eax, gate_target
    mov [gdt + GATE_SEL], ax
    shr eax, 16
    mov [gdt + GATE_SEL + 6], ax

    ; IDT: 32 interrupt gates (DPL 0; #BP DPL 3), INT 0x80 a DPL-3 trap gate.
    xor ecx, ecx
.idt:
    mov eax, [stubs + ecx * 4]
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
    mov eax, int80
    mov edx, 0xEF00
    call set_gate
    mov dword [idt + 8 * 8], DF_TSS_SEL << 16
    mov dword [idt + 8 * 8 + 4], 0x8500     ; task gate
    lidt [idt_ptr]

    ; Paging: 4 MiB pages, 0..4 MiB user, 4..8 MiB supervisor only; WP on.
    mov dword [pgdir], 0x000000 | 0x87
    mov dword [pgdir + 4], 0x400000 | 0x83
    mov eax, cr4
    or eax, 1 << 4
    mov cr4, eax
    mov eax, pgdir
    mov cr3, eax
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)
    mov cr0, eax

    ; SYSENTER MSRs.
    mov ecx, 0x174
    mov eax, K_CODE
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, kstack2_top
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr

    mov esi, msg_start
    call puts

    ; ---- CPL 0 -----------------------------------------------------------------------------
    mov dword [resume], .k1
    ud2
.k1:
    mov dword [resume], .k2
    mov ax, 0x1234
    mov ds, ax                      ; #GP(0x1230)
.k2:
    mov dword [resume], .k3
    mov ax, NP_DATA
    mov es, ax                      ; #NP(0x38)
.k3:
    mov dword [resume], .k4
    mov eax, [0x00900000]           ; not mapped: #PF(0)
.k4:
    mov dword [resume], .k5
    xor edx, edx
    xor eax, eax
    div eax                         ; #DE
.k5:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    int 0x80
    ; A real double fault: #GP whose gate is not present -> #NP -> #DF through the task gate.
    mov dword [resume], .k6
    and byte [idt + 13 * 8 + 5], 0x7F
    mov ax, 0x1234
    mov ds, ax
.k6:
    mov ax, K_DATA
    mov ds, ax
    str ax
    mov esi, msg_task
    call puts
    call hex16
    call newline

    ; ---- to ring 3 -----------------------------------------------------------------------------
    push U_DATA | 3
    push ustack_top
    push 0x2
    push U_CODE | 3
    push user
    iret

user:
    mov ax, U_DATA | 3
    mov ds, ax
    mov es, ax
    mov dword [resume], .u1
    cli                             ; #GP(0)
.u1:
    mov dword [resume], .u2
    in al, 0x60                     ; #GP(0)
.u2:
    mov dword [resume], .u3
    mov eax, [0x00400000]           ; supervisor page: #PF(5)
.u3:
    mov dword [resume], .u4
    mov byte [user_ro], 1           ; the kernel's data is user-writable here: no fault
    mov ax, K_DATA
    mov ds, ax                      ; DPL 0 data from CPL 3: #GP(0x10)
.u4:
    int3
    int 0x80
    mov dword [resume], .u5
    int 0x81                        ; beyond the IDT limit: #GP(0x81*8+2), saved EIP = the INT
.u5:
    mov dword [resume], .u6
    int 0x0D                        ; DPL-0 gate: #GP(0x0D*8+2)
.u6:
    push 0x12345678
    call GATE_SEL | 3:0             ; through the call gate to ring 0 and back (RETF 4)
    mov esi, msg_back
    call puts_user
    mov ecx, esp
    mov edx, .u7
    sysenter
.u7:
    mov eax, 99
    mov ecx, esp
    mov edx, .u7
    sysenter

; puts from ring 3 goes through INT-free port I/O, which ring 3 may not do: ask ring 0 instead.
puts_user:
    push eax
    mov eax, 1
    int 0x80                        ; EAX = 1: print the string at ESI
    pop eax
    ret

; ---- ring-0 entry points -------------------------------------------------------------------------

gate_target:
    push ebp
    mov ebp, esp
    mov esi, msg_gate
    call puts
    mov eax, [ebp + 4]              ; return EIP
    call hex32
    call space
    mov eax, [ebp + 8]              ; caller CS
    call hex16
    call space
    mov eax, [ebp + 12]             ; the copied parameter
    call hex32
    call space
    mov eax, [ebp + 16]             ; caller ESP
    call hex32
    call space
    mov eax, [ebp + 20]             ; caller SS
    call hex16
    call space
    mov ax, cs
    call hex16
    call space
    mov ax, ss
    call hex16
    call newline
    pop ebp
    retf 4

sysenter_entry:
    cmp eax, 99
    je .exit
    push ecx
    push edx
    mov esi, msg_sysenter
    call puts
    mov ax, cs
    call hex16
    call space
    mov ax, ss
    call hex16
    call space
    mov eax, esp
    call hex32
    call space
    pushfd
    pop eax
    call hex32
    call newline
    pop edx
    pop ecx
    sysexit
.exit:
    mov esi, msg_done
    call puts
    mov al, 0x10
    out EXIT_PORT, al
    hlt

; The double-fault task: prints its error code, the back link, EFLAGS (NT set) and TR, repairs
; the #GP gate, points the interrupted task at its recovery label and returns to it with IRET.
df_task:
    mov esi, msg_df
    call puts
    pop eax                         ; the error code, pushed on this task's stack
    call hex32
    call space
    movzx eax, word [df_tss]        ; back link
    call hex16
    call space
    pushfd
    pop eax
    call hex32
    call space
    str ax
    call hex16
    call newline
    or byte [idt + 13 * 8 + 5], 0x80
    mov eax, [resume]
    mov [tss + 0x20], eax
    mov dword [resume], 0
    iret
    jmp df_task

int80:
    cmp eax, 1
    jne .trap
    call puts                       ; ESI: string from ring 3 (user pages are readable here)
    iret
.trap:
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

; Frame: [esp] vector, +4 error code, +8 EIP, +12 CS, +16 EFLAGS, (+20 ESP, +24 SS from ring 3).
trap_common:
    push eax
    push ecx
    push edx
    push esi
    mov esi, msg_trap
    call puts
    mov eax, [esp + 16]
    call hex16
    call space
    mov eax, [esp + 20]
    call hex32
    call space
    mov eax, [esp + 24]
    call hex32
    call space
    mov eax, [esp + 28]
    call hex16
    call space
    mov eax, [esp + 32]
    call hex32
    test dword [esp + 28], 3
    jz .kernel
    call space
    mov eax, [esp + 36]
    call hex32
    call space
    mov eax, [esp + 40]
    call hex16
.kernel:
    cmp dword [esp + 16], 14
    jne .nocr2
    call space
    mov eax, cr2
    call hex32
.nocr2:
    call newline
    mov eax, [resume]
    test eax, eax
    jz .noresume
    mov [esp + 24], eax
    mov dword [resume], 0
    jmp .out
.noresume:
    mov eax, [esp + 16]
    cmp eax, 0x80
    je .out
    cmp eax, 3
    je .out
    mov esi, msg_unexpected
    call puts
    mov al, 0x11
    out EXIT_PORT, al
    hlt
.out:
    pop esi
    pop edx
    pop ecx
    pop eax
    add esp, 8
    iret

; set_gate: IDT entry ECX -> handler EAX, type/DPL/P word in DX.
set_gate:
    mov [idt + ecx * 8], ax
    mov word [idt + ecx * 8 + 2], K_CODE
    mov [idt + ecx * 8 + 4], dx
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    ret

; ---- serial output ----------------------------------------------------------------------------------

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
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

puts:
    push eax
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop eax
    ret

space:
    push eax
    mov al, ' '
    call putc
    pop eax
    ret

newline:
    push eax
    mov al, 13
    call putc
    mov al, 10
    call putc
    pop eax
    ret

hex16:
    push ecx
    mov ecx, 4
    jmp hexn
hex32:
    push ecx
    mov ecx, 8
hexn:
    push eax
    push ebx
    mov ebx, eax
    shl ecx, 2
.digit:
    sub ecx, 4
    mov eax, ebx
    shr eax, cl
    and eax, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    call putc
    test ecx, ecx
    jnz .digit
    pop ebx
    pop eax
    pop ecx
    ret

; ---- data -----------------------------------------------------------------------------------------

msg_start:      db "systest32: protected mode", 13, 10, 0
msg_trap:       db "trap ", 0
msg_gate:       db "gate ", 0
msg_back:       db "back in ring 3", 13, 10, 0
msg_sysenter:   db "sysenter ", 0
msg_done:       db "done", 13, 10, 0
msg_df:         db "double fault task ", 0
msg_task:       db "back in task ", 0
msg_unexpected: db "unexpected trap", 13, 10, 0

align 4
stubs:
%assign i 0
%rep 32
    dd stub %+ i
%assign i i + 1
%endrep

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08 ring-0 code
    dq 0x00CF92000000FFFF           ; 0x10 ring-0 data
    dq 0x00CFFA000000FFFF           ; 0x18 ring-3 code
    dq 0x00CFF2000000FFFF           ; 0x20 ring-3 data
    dq 0x0000890000000067           ; 0x28 32-bit TSS (base filled in)
    dq 0x0000EC0100080000           ; 0x30 call gate: DPL 3, 1 parameter, selector 0x08 (offset filled in)
    dq 0x00CF12000000FFFF           ; 0x38 data, not present
    dq 0x0000890000000067           ; 0x40 the double-fault task's TSS (base filled in)
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
idt_ptr:
    dw 0x81 * 8 - 1
    dd idt

load_end:

section .bss
alignb 4096
pgdir:  resb 4096
idt:    resb 0x81 * 8
alignb 16
tss:    resb 0x68
df_tss: resb 0x68
resume: resd 1
user_ro: resd 1
alignb 16
        resb 4096
kstack_top:
        resb 4096
kstack2_top:
        resb 4096
ustack_top:
        resb 4096
dfstack_top:
bss_end:
