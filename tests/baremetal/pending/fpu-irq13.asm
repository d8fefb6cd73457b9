; The PC's legacy x87 error path (CR0.NE = 0): an unmasked exception
; asserts FERR# at the next waiting instruction, which the board routes
; to IRQ13 (slave PIC input 5); the handler writes port 0xF0 to release
; it and FNCLEX clears the exception. To enable (move up to
; tests/baremetal/, with a "qemu-oracle: skip" line: QEMU 7.2 aborts on
; this path, an assertion in tcg_handle_interrupt when the FPU raises
; FERR# from a helper) once hw/pc.c wires the CPU's ferr_line to ISA
; IRQ13 and a write to port 0xF0 to deassert it. The CPU side (FERR#
; raised by the next waiting instruction, lowered when ES clears) is
; covered by tests/unit/test-fpu-guest.c.
%include "common.inc"

T       equ scratch

%macro OUTB 2
        mov     al, %2
        out     %1, al
%endmacro

test_main:
        ; PICs: master vectors 0x20, slave 0x28; only IRQ2 (cascade)
        ; and IRQ13 unmasked
        OUTB    0x20, 0x11
        OUTB    0xa0, 0x11
        OUTB    0x21, 0x20
        OUTB    0xa1, 0x28
        OUTB    0x21, 0x04
        OUTB    0xa1, 0x02
        OUTB    0x21, 0x01
        OUTB    0xa1, 0x01
        OUTB    0x21, 0xfb
        OUTB    0xa1, 0xdf
        ; local APIC (if any): software-enabled, LINT0 = ExtINT, so the
        ; PIC's INTR reaches the core, as a BIOS leaves it
        or      dword [0xfee000f0], 0x100
        mov     dword [0xfee00350], 0x700

        mov     eax, cr0
        and     eax, ~0x2e                      ; NE, TS, EM, MP off
        mov     cr0, eax
        fninit
        mov     word [T], 0x037b                ; ZE unmasked
        fldcw   [T]
        fldz
        fld1
        fdiv    st0, st1                        ; pending
        sti
        nop
        mov     dword [exc_vector], 0xffffffff
        EXPECT_FAULT .irq
        fwait                                   ; FERR# -> IRQ13
        mov     ecx, 1000                       ; (block ends: time to take it)
.spin:  loop    .spin
.irq:   cli
        CHECK_EQ dword [exc_vector], 0x2d, "IRQ13 (vector 0x2d) after FWAIT with CR0.NE = 0"
        ; the handler's work: release the latch, clear the exception, EOI
        OUTB    0xf0, 0
        fnclex
        OUTB    0xa0, 0x20
        OUTB    0x20, 0x20
        ; no further interrupt
        mov     dword [exc_vector], 0xffffffff
        EXPECT_FAULT .irq2
        sti
        fwait
        mov     ecx, 1000
.spin2: loop    .spin2
.irq2:  cli
        CHECK_EQ dword [exc_vector], 0xffffffff, "no IRQ13 once cleared"
        fninit
        ret

        END_IMAGE
