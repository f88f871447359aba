; The hot loop warm-up's 32-bit program (src/interp/hot-warm.ts embeds its bytes):
; nasm -f bin -I src/interp/ src/interp/hot-warm32.asm (the alljcc macro: hot-warm-jcc.inc).
; Flat 32-bit protected mode, no paging: the hot loop's 32-bit addressing, stack and jump paths
; (bench32 and any 32-bit kernel), with the kinds of hot-warm.asm, values with bit 31 set and
; every condition after each kind of pending flags.
bits 32
org 0x8000
%include "hot-warm-jcc.inc"
; esi = data (0x10000), esp = stack top (0x20000), ecx = loop counter
start:
  mov ecx, 32
top:
  mov eax, ecx
  mov ebx, ecx
  shl ebx, 27            ; bit 31 set when ecx & 16
  add eax, ebx
  or eax, ebx
  and eax, 0x7fff
  sub eax, ebx
  xor edx, eax
  cmp eax, ebx
  test eax, ebx
  add eax, 5
  sub eax, 100000
  cmp eax, 1
  and edx, 0xff0
  test edx, 0x10
  mov edi, 12345
  mov dword [esi+16], 7
  mov byte [esi+3], 9
  mov [esi+edx], ebx
  mov [esi+edx*2+8], ebx
  mov ebx, [esi+edx]
  mov ebx, [esi+edx*2+8]
  mov [esi+5], bl
  mov al, [esi+5]
  movzx eax, byte [esi+5]
  movzx eax, bl
  lea eax, [esi+edx*4+8]
  lea eax, [ebx+edx*8-8]
  lea eax, [ebx+ebx*2+0x7ffffff0]
  lea eax, [ebx*4]
  add eax, [esi+16]
  cmp ebx, [esi+16]
  xor [esi+16], eax
  add [esi+16], ebx
  cmp [esi+16], ebx
  test [esi+16], eax
  add dword [esi+16], 3
  sub dword [esi+16], 3
  cmp dword [esi+16], 3
  cmp byte [esi+3], 9
  add byte [esi+3], 1
  cmp byte [esi+3], al
  xor [esi+3], al
  mov eax, [data]
  imul eax, ebx
  imul eax, [esi+16]
  imul eax, ebx, 1000
  imul eax, ebx, -3
  imul eax, ecx, 0x9e3779b1
  shl eax, 3
  shr eax, 2
  sar eax, 1
  shr eax, 31
  mov eax, ebx
  sar eax, 5
  inc eax
  dec eax
  push eax
  push ebx
  pop ebx
  pop eax
  call fn
  call far_fn
  cmp eax, ebx
  alljcc
  test eax, ebx
  alljcc
  add eax, ebx
  alljcc
  sub eax, ebx
  alljcc
  cmp al, bl
  alljcc
  test al, bl
  alljcc
  cmp ax, bx
  alljcc
  inc eax
  alljcc
  shl eax, 1
  alljcc
  imul eax, ebx
  alljcc
  cmp ebx, eax
  setb dl
  setbe dl
  setl dl
  setle dl
  setnz dl
  sets dl
  seto dl
  cmovb edx, eax
  cmovbe edx, ebx
  cmovl edx, eax
  cmovg edx, ebx
  test eax, eax
  setz dl
  cmovz edx, eax
  dec ecx
  jnz top
  jmp far_end
fn:
  ret
data: dd 42
align 4096
far_fn:
  ret
far_end:
  hlt
