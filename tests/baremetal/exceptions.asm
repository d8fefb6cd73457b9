; Exceptions in ring 0: vector, error code and saved EIP for #DE #DB
; (single-step and DR0 breakpoint) #BP #OF #BR #UD #NM #GP #NP #SS #TS
; and #DF (a fault while delivering a contributory fault).
%include "common.inc"

test_main:
        ; #DE: divide by zero, then IDIV overflow
        EXPECT_FAULT .de1
        xor     ecx, ecx
.de1_insn:
        div     ecx
.de1:   CHECK_EXC 0, -1
        CHECK_EQ dword [exc_eip], .de1_insn, "#DE saved EIP is the faulting instruction"
        EXPECT_FAULT .de2
        mov     eax, 0x80000000
        cdq
        mov     ecx, -1
        idiv    ecx
.de2:   CHECK_EXC 0, -1

        ; #DB: TF single-step traps after the next instruction
        EXPECT_FAULT .db1
        pushfd
        or      dword [esp], 0x100
        popfd
        nop
.db1_next:
        nop
        nop
.db1:   CHECK_EXC 1, -1
        CHECK_EQ dword [exc_eip], .db1_next, "#DB trap EIP after the stepped instruction"
        mov     eax, dr6
        test    eax, 0x4000
        CHECK   nz, "DR6.BS after single step"
        xor     eax, eax
        mov     dr6, eax

        ; #DB: DR0 execution breakpoint is a fault at the target
        mov     eax, .bp_target
        mov     dr0, eax
        mov     eax, 1                  ; L0, R/W0 = execute, LEN0 = 1
        mov     dr7, eax
        EXPECT_FAULT .db2
        jmp     .bp_target
.bp_target:
        nop
        nop
.db2:   xor     eax, eax
        mov     dr7, eax
        CHECK_EXC 1, -1
        CHECK_EQ dword [exc_eip], .bp_target, "#DB breakpoint EIP"
        mov     eax, dr6
        test    eax, 1
        CHECK   nz, "DR6.B0 after breakpoint"

        ; #BP: INT3 traps with EIP after it
        EXPECT_FAULT .bp
        int3
.bp_after:
        nop
.bp:    CHECK_EXC 3, -1
        CHECK_EQ dword [exc_eip], .bp_after, "#BP EIP after INT3"

        ; #OF: INTO with OF set
        EXPECT_FAULT .of
        mov     al, 0x7f
        add     al, 1
        into
.of_after:
        nop
.of:    CHECK_EXC 4, -1
        CHECK_EQ dword [exc_eip], .of_after, "#OF EIP after INTO"
        ; INTO with OF clear does nothing
        mov     dword [exc_vector], 0xffffffff
        xor     eax, eax
        into
        CHECK_EQ dword [exc_vector], 0xffffffff, "INTO without OF"

        ; #BR: BOUND out of range
        mov     dword [scratch], 10
        mov     dword [scratch + 4], 20
        mov     eax, 15
        bound   eax, [scratch]
        EXPECT_FAULT .br
        mov     eax, 21
.br_insn:
        bound   eax, [scratch]
.br:    CHECK_EXC 5, -1
        CHECK_EQ dword [exc_eip], .br_insn, "#BR EIP"

        ; #UD: UD2 and LOCK on a non-lockable instruction
        EXPECT_FAULT .ud1
        ud2
.ud1:   CHECK_EXC 6, -1
        EXPECT_FAULT .ud2
        db      0xf0, 0x90              ; lock nop
.ud2:   CHECK_EXC 6, -1
        EXPECT_FAULT .ud3
        db      0xf0, 0x01, 0xc0        ; lock add eax, eax (register form)
.ud3:   CHECK_EXC 6, -1

        ; #NM: WAIT with CR0.TS and CR0.MP
        mov     eax, cr0
        or      eax, 0x0a
        mov     cr0, eax
        EXPECT_FAULT .nm
        fwait
.nm:    CHECK_EXC 7, -1
        clts
        mov     eax, cr0
        test    eax, 8
        CHECK   z, "CLTS clears TS"
        and     eax, ~2
        mov     cr0, eax

        ; #GP: selector beyond the GDT limit
        EXPECT_FAULT .gp1
        mov     ax, 0x1230
        mov     ds, ax
.gp1:   CHECK_EXC 13, 0x1230
        ; #GP: code segment selector loaded into DS that is execute-only
        SET_DESC SEL_FREE + 0x10, 0, 0xfffff, 0x98, 0xc   ; execute-only code
        EXPECT_FAULT .gp2
        mov     ax, SEL_FREE + 0x10
        mov     ds, ax
.gp2:   CHECK_EXC 13, SEL_FREE + 0x10
        ; #GP: null SS
        EXPECT_FAULT .gp3
        xor     ax, ax
        mov     ss, ax
.gp3:   CHECK_EXC 13, 0

        ; #NP: not-present data segment
        SET_DESC SEL_FREE, 0, 0xfffff, 0x12, 0xc
        EXPECT_FAULT .np
        mov     ax, SEL_FREE
        mov     es, ax
.np:    CHECK_EXC 11, SEL_FREE
        ; #SS: not-present stack segment
        EXPECT_FAULT .ss
        mov     ax, SEL_FREE
        mov     ss, ax
.ss:    CHECK_EXC 12, SEL_FREE
        ; #TS: task switch to a TSS whose limit is too small
        SET_DESC SEL_FREE + 8, TSS2_ADDR, 0x20, 0x89, 0
        EXPECT_FAULT .ts
        jmp     (SEL_FREE + 8):0
.ts:    CHECK_EXC 10, SEL_FREE + 8

        ; #DF: #NP while the #NP gate itself is not present
        and     byte [IDT_ADDR + 11 * 8 + 5], 0x7f
        EXPECT_FAULT .df
        mov     ax, SEL_FREE
        mov     ds, ax
.df:    CHECK_EXC 8, 0
        or      byte [IDT_ADDR + 11 * 8 + 5], 0x80
        ; and a plain #NP still works afterwards
        EXPECT_FAULT .np2
        mov     ax, SEL_FREE
        mov     gs, ax
.np2:   CHECK_EXC 11, SEL_FREE
        ret

        END_IMAGE
