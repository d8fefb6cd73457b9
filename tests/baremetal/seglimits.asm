; Segment limit and type checks on data accesses, and #AC.
; (The exception handler reloads the data segment registers.)
; qemu-oracle: skip QEMU's TCG does not check data segment limits, null segments or alignment
%include "common.inc"

SEL_SMALL  equ SEL_FREE              ; data, limit 0xfff
SEL_EXPDN  equ SEL_FREE + 8          ; expand-down data, limit 0xfff, 32-bit
SEL_RO     equ SEL_FREE + 16         ; read-only data
SEL_STK    equ SEL_FREE + 24         ; stack, limit 0x7ffff

test_main:
        SET_DESC SEL_SMALL, 0x100000, 0xfff, 0x92, 0x4
        SET_DESC SEL_EXPDN, 0x100000, 0xfff, 0x96, 0x4
        SET_DESC SEL_RO, 0x100000, 0xfffff, 0x90, 0xc
        mov     ax, SEL_SMALL
        mov     es, ax
        mov     dword [es:0xffc], 0x12345678     ; last dword inside
        CHECK_EQ dword [0x100ffc], 0x12345678, "write at the limit"
        EXPECT_FAULT .l1
        mov     dword [es:0xffd], 0              ; last byte beyond the limit
.l1:    CHECK_EXC 13, 0
        mov     ax, SEL_SMALL           ; the handler reloaded ES
        mov     es, ax
        EXPECT_FAULT .l2
        mov     al, [es:0x1000]
.l2:    CHECK_EXC 13, 0
        ; expand-down: offsets above the limit are valid, at or below fault
        mov     ax, SEL_EXPDN
        mov     es, ax
        mov     dword [es:0x2000], 0x55aa
        CHECK_EQ dword [0x102000], 0x55aa, "expand-down above the limit"
        EXPECT_FAULT .l3
        mov     eax, [es:0xffc]
.l3:    CHECK_EXC 13, 0
        ; read-only data segment: reads fine, writes #GP(0)
        mov     ax, SEL_RO
        mov     es, ax
        mov     eax, [es:0]
        EXPECT_FAULT .l4
        mov     [es:0], eax
.l4:    CHECK_EXC 13, 0
        ; writes through CS: #GP(0)
        EXPECT_FAULT .l5
        mov     [cs:scratch], eax
.l5:    CHECK_EXC 13, 0
        ; null segment in DS: loads fine, use faults with #GP(0)
        xor     ax, ax
        mov     fs, ax
        EXPECT_FAULT .l6
        mov     eax, [fs:0]
.l6:    CHECK_EXC 13, 0
        mov     ax, SEL_DATA32
        mov     es, ax
        mov     fs, ax
        ; stack limit: #SS(0)
        SET_DESC SEL_STK, 0, 0x7f, 0x92, 0xc      ; limit 0x7ffff (4 KiB granular)
        mov     ax, SEL_STK
        mov     ss, ax
        EXPECT_FAULT .l7
        mov     eax, [ss:0x80000]
.l7:    CHECK_EXC 12, 0
        mov     ax, SEL_DATA32
        mov     ss, ax
        ; #AC: CR0.AM + EFLAGS.AC + CPL 3 + misaligned access
        mov     eax, cr0
        or      eax, 1 << 18
        mov     cr0, eax
        pushfd
        or      dword [esp], 1 << 18
        popfd
        EXPECT_FAULT .ac
        TO_RING3 .r3
.r3:    mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     eax, [0x60000]                   ; aligned: fine
        mov     [scratch], eax
        mov     eax, [0x60001]
.ac:    CHECK_EXC 17, 0
        pushfd
        and     dword [esp], ~(1 << 18)
        popfd
        mov     eax, cr0
        and     eax, ~(1 << 18)
        mov     cr0, eax
        ret

        END_IMAGE
