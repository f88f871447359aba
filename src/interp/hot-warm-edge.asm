; The hot loop warm-up's second 64-bit program (src/interp/hot-warm.ts embeds its bytes):
; nasm -f bin -I src/interp/ src/interp/hot-warm-edge.asm (the alljcc macro: hot-warm-jcc.inc).
; hot-warm.asm reaches every kind with small values; this one gives the same kinds the values a
; real guest has (low halves with bit 31 set, negative 64-bit registers, 64-bit sums that carry,
; shifts of 32 and more, products that overflow) and every condition after every kind of pending
; flags, so the guest finds no path V8 has not seen.
bits 64
%include "hot-warm-jcc.inc"
; rsi = data (0x10000), rsp = stack top (0x20000), rcx = loop counter
start:
  mov ecx, 32
top:
  mov ebx, ecx
  shl ebx, 27            ; bit 31 set when ecx & 16
  movsxd rbx, ebx        ; and negative as 64 bits
  imul eax, ecx, 0x9e3779b1
  mov edx, eax
  imul edx, ebx          ; overflows
  mov rdi, -0x123456789
  mov rdx, 0x80000000
  ; 64-bit effective addresses whose halves carry
  lea rdx, [rbx+rax*4-8]
  lea rdx, [rbx+rbx*8+0x40000000]
  lea rdx, [rax+rbx]
  lea rdx, [rdi+rax*2]
  lea rdx, [rbx*8+16]
  lea edx, [rbx+rax*2+0x7ffffff0]
  lea edx, [rdi+rbx]
  ; 64-bit ALU with low halves >= 2^31 (carries and borrows between the halves)
  mov rdx, rbx
  add rdx, rax
  add rdx, rdi
  sub rdx, rbx
  sub rdx, rdi
  or rdx, rdi
  and rdx, rbx
  xor rdx, rdi
  add rdx, -0x70000000
  mov [rsi+8], rdi
  add rdx, [rsi+8]
  sub [rsi+8], rbx
  add [rsi+8], rdx
  mov [rsi+16], ebx
  add edx, [rsi+16]
  sub [rsi+16], eax
  ; 64-bit shifts by 32 and more, and the 32-bit ones on values with bit 31 set
  mov rdx, rbx
  shr rdx, 35
  mov rdx, rbx
  shr rdx, 32
  shl rdx, 32
  sar rdx, 33
  shl rdx, 1
  shr rdx, 1
  sar rdx, 1
  mov edx, ebx
  shr edx, 31
  mov edx, ebx
  sar edx, 7
  shl edx, 1
  ; INC/DEC across a half
  mov rdx, -1
  inc rdx
  dec rdx
  inc edx
  dec edx
  ; stack and calls with 64-bit values
  push rbx
  push rdi
  pop rdx
  pop rdx
  call fn
  ; every condition after each kind of pending flags
  cmp eax, ebx
  alljcc
  test eax, ebx
  alljcc
  add eax, ebx
  alljcc
  sub eax, ebx
  alljcc
  cmp rax, rbx
  alljcc
  cmp rbx, rdi
  alljcc
  test rax, rbx
  alljcc
  test rbx, rbx
  alljcc
  add rax, rbx
  alljcc
  sub rdx, rbx
  alljcc
  cmp al, bl
  alljcc
  test al, bl
  alljcc
  add al, bl
  alljcc
  cmp ax, bx
  alljcc
  test ax, bx
  alljcc
  inc eax
  alljcc
  dec rax
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
  cmovb edx, eax
  cmovbe edx, ebx
  cmovl edx, eax
  cmovle edx, ebx
  cmovs edx, eax
  cmovnz edx, ebx
  test rbx, rax
  setz dl
  sets dl
  setle dl
  cmovz edx, eax
  cmovg edx, ebx
  dec ecx
  jnz top
  hlt
fn:
  ret
