; qemu-oracle: skip QEMU's x87 does not model #MF at waiting instructions other than WAIT, stack faults (SF, C1, the pushed indefinite), C1 as the round-up bit, FOP, the FIP of the faulting instruction, reserved FCW bits, ES derived from flags and masks, the 2^63 boundary of FSIN, the all-ones exponent of an MMX write or #UD for EMMS under CR0.EM
; x87 details of real hardware that QEMU's TCG leaves out. The expected
; values are what the SDM specifies and what the host x87 does (the unit
; test test-fpu-insn runs every x87 encoding against the host's x87).
%include "common.inc"

T       equ scratch
ENV     equ scratch + 0x40

%macro CHECK_T80 4
        cmp     dword [%1], (%2) & 0xffffffff
        CHECK   e, %4
        cmp     dword [%1 + 4], (%2) >> 32
        CHECK   e, %4
        cmp     word [%1 + 8], %3
        CHECK   e, %4
%endmacro

%macro SW_IS 3
        fnstsw  ax
        and     ax, %1
        cmp     ax, %2
        CHECK   e, %3
%endmacro

%macro SET_CW 1
        mov     word [T + 14], %1
        fldcw   [T + 14]
%endmacro

test_main:
        mov     eax, cr0
        and     eax, ~0x0c                      ; EM, TS
        or      eax, 0x22                       ; NE, MP
        mov     cr0, eax

        ; FLDCW: bits 13-15 and 7 read as 0, bit 6 as 1
        fninit
        SET_CW  0xffff
        fnstcw  [T]
        CHECK_EQ word [T], 0x1f7f, "FLDCW reserved bits"
        SET_CW  0x0000
        fnstcw  [T]
        CHECK_EQ word [T], 0x0040, "FLDCW bit 6"

        ; C1: rounded up or not
        fninit
        SET_CW  0x0b7f                          ; RU
        fld     dword [two_f]
        fsqrt
        SW_IS   0x0220, 0x0220, "FSQRT RU: C1 = rounded up"
        SET_CW  0x0f7f                          ; RZ
        fld     dword [two_f]
        fsqrt
        SW_IS   0x0220, 0x0020, "FSQRT RZ: C1 = 0"

        ; stack underflow and overflow, masked: IE, SF, C1, the indefinite
        fninit
        fld1
        fstp    st0
        fstp    st0
        SW_IS   0x0241, 0x0041, "underflow: IE, SF, C1 = 0"
        fninit
        mov     ecx, 8
.push:  fld1
        loop    .push
        fldz
        SW_IS   0x0241, 0x0241, "overflow: IE, SF, C1 = 1"
        fstp    tword [T]
        CHECK_T80 T, 0xc000000000000000, 0xffff, "overflow pushes the indefinite"
        fninit
        fst     dword [T]
        CHECK_EQ dword [T], 0xffc00000, "FST m32 from empty: the indefinite"
        fistp   word [T]
        CHECK_EQ word [T], 0x8000, "FISTP m16 from empty: the integer indefinite"
        ; unmasked: nothing changes but the flags
        fninit
        SET_CW  0x037e
        fadd    st0, st1
        SW_IS   0x38c1, 0x00c1, "unmasked underflow: ES, TOP unchanged"
        fnclex
        fninit

        ; FPREM1: 11 rem 3 = -1 with quotient 4 (C0 = Q2, C3 = Q1, C1 = Q0)
        fild    dword [three]
        fild    dword [eleven]
        fprem1
        SW_IS   0x4700, 0x0100, "FPREM1 quotient bits (q = 4)"
        fninit

        ; FSIN: 2^63 is already out of range
        fld     tword [two63]
        fsin
        SW_IS   0x0400, 0x0400, "FSIN 2^63: C2"
        fstp    tword [T]
        CHECK_T80 T, 0x8000000000000000, 0x403e, "FSIN 2^63 unchanged"

        ; the faulting instruction's FIP and FOP; ES follows flags and masks
        fninit
        SET_CW  0x037b                          ; ZE unmasked
        fldz
        fld1
.fdiv:  fdiv    st0, st1
        fnstenv [ENV]                           ; not waiting; masks all
        CHECK_EQ dword [ENV + 12], .fdiv, "FIP names the FDIV"
        mov     ax, [ENV + 18]
        and     ax, 0x7ff
        CHECK_EQ ax, 0x0f1, "FOP of the FDIV"
        fnstsw  ax
        CHECK_EQ ax, 0x3004, "masked by FNSTENV: no ES, no B"
        fldcw   [ENV]                           ; unmasks ZE again
        fnstsw  ax
        CHECK_EQ ax, 0xb084, "FLDCW unmasking a set flag: ES, B"
        EXPECT_FAULT .mf1
.fld:   fld1                                    ; waiting: reports first
.mf1:   CHECK_EXC 16, -1
        CHECK_EQ dword [exc_eip], .fld, "#MF before FLD1"
        fnstsw  ax
        and     ax, 0x3800
        CHECK_EQ ax, 0x3000, "FLD1 did not push"
        fnclex
        ; FLDENV: ES and B derived from the loaded flags and masks
        fninit
        fnstenv [ENV]
        mov     word [ENV + 0], 0x037e          ; IE unmasked
        mov     word [ENV + 4], 0x0001          ; IE set, no ES in the image
        fldenv  [ENV]
        fnstsw  ax
        CHECK_EQ ax, 0x8081, "FLDENV: ES and B follow flags and masks"
        EXPECT_FAULT .mf2
        fwait
.mf2:   CHECK_EXC 16, -1
        fninit

        ; MMX writes set Ri's sign and exponent to all ones
        fld1                                    ; TOP 7, R7 = 1.0
        movq    mm1, [three]                    ; writes R1
        fnsave  [ENV]                           ; TOP 0: ST(i) = Ri
        CHECK_EQ word [ENV + 28 + 18], 0xffff, "MMX write: R1 exponent all ones"
        CHECK_EQ word [ENV + 28 + 78], 0x3fff, "R7 untouched"
        ; EMMS is an MMX instruction: #UD under CR0.EM
        mov     eax, cr0
        or      eax, 0x04
        mov     cr0, eax
        EXPECT_FAULT .ud
        emms
.ud:    CHECK_EXC 6, -1
        mov     eax, cr0
        and     eax, ~0x04
        mov     cr0, eax
        fninit
        ret

        align   8
three:          dd      3, 0
eleven:         dd      11
two_f:          dd      0x40000000
two63:          dq      0x8000000000000000
                dw      0x403e

        END_IMAGE
