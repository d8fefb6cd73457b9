; Self-modifying code: a store to the next instruction of the same
; block, re-patching code that already ran (translated), code copied with
; REP MOVSB and run, and a store into the page of the running block.
%include "common.inc"

CODE    equ 0x20000

test_main:
        call    copy_patch
        call    CODE
        CHECK_EQ eax, 0x42, "store to the next instruction of the same block"
        ; restore the RET and disable the self-patching store from outside
        mov     byte [CODE + (patch_next - patch_src)], 0xc3
        mov     edi, CODE + (patch_store - patch_src)
        mov     ecx, patch_next - patch_store
        mov     al, 0x90
        rep     stosb
        call    CODE
        CHECK_EQ eax, 1, "code patched from outside after it ran"
        ; put everything back: runs as the first time
        call    copy_patch
        call    CODE
        CHECK_EQ eax, 0x42, "re-copied code runs as new"
        ; a loop whose body is rewritten while it runs
        mov     esi, loop_src
        mov     edi, CODE + 0x100
        mov     ecx, loop_end - loop_src
        rep     movsb
        call    CODE + 0x100
        CHECK_EQ ebx, 3, "loop rewritten by itself"
        ret

copy_patch:
        mov     esi, patch_src
        mov     edi, CODE
        mov     ecx, patch_end - patch_src
        rep     movsb
        ret

; mov eax, 1; then the store turns the RET after it into B8 = mov eax, imm32
patch_src:
        mov     eax, 1
patch_store:
        mov     byte [CODE + (patch_next - patch_src)], 0xb8
patch_next:
        ret
        db      0x42, 0, 0, 0
        ret
patch_end:

; ebx counts iterations; the second iteration overwrites the first
; "jmp" with "nop; nop", the third leaves the loop
loop_src:
        xor     ebx, ebx
.top:   inc     ebx
        cmp     ebx, 2
        jne     .skip
        mov     word [CODE + 0x100 + (.j - loop_src)], 0x9090
.skip:  cmp     ebx, 3
        je      .out
.j:     jmp     short .top
        jmp     short .top
.out:   ret
loop_end:

        END_IMAGE
