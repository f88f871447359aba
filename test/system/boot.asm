; ringvm system-layer integration test: real mode -> protected mode -> long mode, then an
; exception through the 64-bit IDT. Assembled with `nasm -f bin boot.asm`; the bytes are embedded
; in test/system/boot.test.ts (regenerate with the command in that file's header).
bits 16
org 0x7c00
start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  lgdt [gdtr]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp 0x08:pm32
bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x90000
  xor eax, eax
  cpuid
  mov [0x500], ebx
  mov [0x504], edx
  mov [0x508], ecx
  mov edi, 0x10000
  xor eax, eax
  mov ecx, 3*1024
  rep stosd
  mov dword [0x10000], 0x11003
  mov dword [0x11000], 0x12003
  mov dword [0x12000], 0x000083
  mov eax, 0x10000
  mov cr3, eax
  mov eax, cr4
  or eax, 1 << 5
  mov cr4, eax
  mov ecx, 0xC0000080
  rdmsr
  or eax, 1 << 8
  wrmsr
  mov eax, cr0
  or eax, 1 << 31
  mov cr0, eax
  jmp 0x18:lm64
bits 64
lm64:
  lidt [idtr]
  mov rax, 0x1122334455667788
  mov [0x600], rax
  mov dx, 0x3f8
  mov al, 'A'
  out dx, al
  ud2
ud_handler:
  mov rax, [rsp]
  mov [0x608], rax
  mov rax, [rsp + 8]
  mov [0x610], rax
  hlt
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0x00af9a000000ffff
gdtr:
  dw gdtr - gdt - 1
  dd gdt
align 16
idt:
  times 6 dq 0, 0
  dw (ud_handler - $$ + 0x7c00) & 0xffff
  dw 0x18
  dw 0x8e00
  dw (ud_handler - $$ + 0x7c00) >> 16
  dd 0, 0
idtr:
  dw 7 * 16 - 1
  dq idt
