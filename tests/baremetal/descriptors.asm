; Descriptor instructions: LAR, LSL, VERR, VERW (valid, invalid, DPL),
; ARPL, LLDT with a segment loaded from the LDT, SLDT/STR, SMSW/LMSW,
; a far JMP through a call gate and accessed-bit updates.
%include "common.inc"

SEL_LDT     equ SEL_FREE            ; LDT descriptor in the GDT
SEL_XO      equ SEL_FREE + 8        ; execute-only code, DPL 0
SEL_D3      equ SEL_FREE + 16       ; data, DPL 3, limit 0x1234 (byte granular)
SEL_JGATE   equ SEL_FREE + 24       ; call gate to jmp_target
LDT_ADDR    equ 0x5000

test_main:
        SET_DESC SEL_XO, 0, 0xfffff, 0x98, 0xc
        SET_DESC SEL_D3, 0x200000, 0x1234, 0xf2, 0x4
        ; LAR: access rights of the DPL 3 data segment
        mov     ax, SEL_D3
        lar     ebx, ax
        CHECK   z, "LAR on a data segment sets ZF"
        and     ebx, 0x00f0ff00
        CHECK_EQ ebx, 0x0040f200, "LAR access rights"
        lsl     ecx, ax
        CHECK   z, "LSL sets ZF"
        CHECK_EQ ecx, 0x1234, "LSL byte-granular limit"
        mov     ax, SEL_CODE32
        lsl     ecx, ax
        CHECK_EQ ecx, 0xffffffff, "LSL page-granular limit"
        ; invalid selector: ZF clear, destination unchanged
        mov     ebx, 0x55
        mov     ax, 0x1ff8
        lar     ebx, ax
        CHECK   nz, "LAR beyond the GDT clears ZF"
        CHECK_EQ ebx, 0x55, "LAR failure leaves the destination"
        ; VERR/VERW
        mov     ax, SEL_XO
        verr    ax
        CHECK   nz, "VERR on execute-only code fails"
        mov     ax, SEL_CODE32
        verr    ax
        CHECK   z, "VERR on readable code"
        verw    ax
        CHECK   nz, "VERW on code fails"
        mov     ax, SEL_D3
        verw    ax
        CHECK   z, "VERW on writable data"
        ; ARPL raises the RPL of the destination
        mov     ax, 0x0010
        mov     bx, 0x0003
        arpl    ax, bx
        CHECK   z, "ARPL adjusted"
        CHECK_EQ ax, 0x0013, "ARPL result"
        arpl    ax, bx
        CHECK   nz, "ARPL no change"

        ; LDT with one data descriptor; load DS from it
        mov     dword [LDT_ADDR], 0
        mov     dword [LDT_ADDR + 4], 0
        mov     dword [LDT_ADDR + 8], 0x0000ffff          ; base 0x300000, limit 0xfffff, data
        mov     dword [LDT_ADDR + 12], 0x00cf9230
        SET_DESC SEL_LDT, LDT_ADDR, 15, 0x82, 0
        mov     ax, SEL_LDT
        lldt    ax
        sldt    bx
        CHECK_EQ bx, SEL_LDT, "SLDT"
        mov     dword [0x300010], 0xfeedface
        mov     ax, 0x000c                                ; index 1, TI=1, RPL 0
        mov     es, ax
        CHECK_EQ dword [es:0x10], 0xfeedface, "segment from the LDT"
        mov     eax, [LDT_ADDR + 12]
        test    eax, 0x100
        CHECK   nz, "accessed bit set in the LDT descriptor"
        mov     ax, SEL_DATA32
        mov     es, ax
        xor     ax, ax
        lldt    ax
        str     bx
        CHECK_EQ bx, SEL_TSS, "STR"

        ; SMSW / LMSW (LMSW cannot clear PE)
        smsw    eax
        test    eax, 1
        CHECK   nz, "SMSW shows PE"
        mov     ax, 0x0008                                ; TS, PE clear
        lmsw    ax
        mov     eax, cr0
        and     eax, 0x0f
        CHECK_EQ eax, 0x09, "LMSW sets TS and keeps PE"
        clts

        ; far JMP through a call gate
        mov     eax, jmp_target
        mov     word [GDT_ADDR + SEL_JGATE], ax
        mov     word [GDT_ADDR + SEL_JGATE + 2], SEL_CODE32
        mov     word [GDT_ADDR + SEL_JGATE + 4], 0x8c00
        shr     eax, 16
        mov     word [GDT_ADDR + SEL_JGATE + 6], ax
        mov     dword [scratch], 0
        jmp     SEL_JGATE:0
back_from_gate:
        CHECK_EQ dword [scratch], 0x600d, "JMP through a call gate"
        ret

jmp_target:
        mov     dword [scratch], 0x600d
        jmp     back_from_gate

        END_IMAGE
