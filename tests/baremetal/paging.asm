; Paging: identity map with 4 KiB pages, accessed/dirty bits written
; back, #PF error codes and CR2 (not present, write, user, CR0.WP,
; instruction fetch), 4 MiB pages (PSE) with A/D in the PDE, INVLPG and
; CR3 reloads picking up new mappings.
%include "common.inc"

PD      equ 0x10000
PT0     equ 0x11000
PTE     equ PT0                         ; PTE for linear page N at PTE + 4*N

%macro PF_CHECK 3                      ; err, cr2, "what"
        CHECK_EXC 14, %1
        mov     eax, cr2
        CHECK_EQ eax, %2, %3
%endmacro

test_main:
        ; identity map 0-4 MiB, user + writable
        mov     edi, PT0
        mov     eax, 7
        mov     ecx, 1024
.fill:  stosd
        add     eax, 0x1000
        loop    .fill
        mov     edi, PD
        xor     eax, eax
        mov     ecx, 1024
        rep     stosd
        mov     dword [PD], PT0 | 7
        mov     eax, PD
        mov     cr3, eax
        mov     eax, cr0
        or      eax, 0x80000000
        mov     cr0, eax

        ; ---- A and D bits ----
        and     dword [PTE + 0x200 * 4], ~0x60
        and     dword [PD], ~0x20
        mov     eax, PD
        mov     cr3, eax
        mov     eax, [0x200000]
        mov     eax, [PTE + 0x200 * 4]
        and     eax, 0x60
        CHECK_EQ eax, 0x20, "read sets A, not D"
        mov     eax, [PD]
        test    eax, 0x20
        CHECK   nz, "PDE accessed"
        mov     dword [0x200004], 1
        mov     eax, [PTE + 0x200 * 4]
        and     eax, 0x60
        CHECK_EQ eax, 0x60, "write sets D"

        ; ---- not present ----
        mov     dword [PTE + 0x201 * 4], 0
        invlpg  [0x201000]
        EXPECT_FAULT .np1
        mov     eax, [0x201010]
.np1:   PF_CHECK 0, 0x201010, "CR2 for a read of a not-present page"
        EXPECT_FAULT .np2
        mov     dword [0x201ffe], eax   ; crosses into 0x202000 too
.np2:   PF_CHECK 2, 0x201ffe, "CR2 for a write of a not-present page"

        ; ---- user access to a supervisor page ----
        mov     dword [PTE + 0x202 * 4], 0x202000 | 3
        invlpg  [0x202000]
        EXPECT_FAULT .us1
        TO_RING3 .r3a
.r3a:   mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     eax, [0x202000]
.us1:   PF_CHECK 5, 0x202000, "user read of a supervisor page"
        EXPECT_FAULT .us2
        TO_RING3 .r3b
.r3b:   mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     dword [0x202008], 0
.us2:   PF_CHECK 7, 0x202008, "user write of a supervisor page"

        ; ---- read-only pages, CR0.WP ----
        mov     dword [PTE + 0x203 * 4], 0x203000 | 5
        invlpg  [0x203000]
        EXPECT_FAULT .ro1
        TO_RING3 .r3c
.r3c:   mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     eax, [0x203000]         ; reading is fine
        mov     dword [0x203000], 0
.ro1:   PF_CHECK 7, 0x203000, "user write of a read-only page"
        mov     dword [0x203000], 0x5a5a  ; supervisor, WP=0: allowed
        CHECK_EQ dword [0x203000], 0x5a5a, "supervisor write with WP=0"
        mov     eax, cr0
        or      eax, 0x10000
        mov     cr0, eax
        EXPECT_FAULT .ro2
        mov     dword [0x203004], 0
.ro2:   PF_CHECK 3, 0x203004, "supervisor write of a read-only page with WP=1"
        mov     eax, cr0
        and     eax, ~0x10000
        mov     cr0, eax

        ; ---- instruction fetch from a not-present page ----
        mov     byte [0x205000], 0xc3   ; ret
        call    0x205000
        mov     dword [PTE + 0x205 * 4], 0
        invlpg  [0x205000]
        EXPECT_FAULT .fetch
        call    0x205000
.fetch: PF_CHECK 0, 0x205000, "CR2 for a fetch"
        CHECK_EQ dword [exc_eip], 0x205000, "EIP of a fetch fault"

        ; ---- remapping: INVLPG and CR3 reload see new translations ----
        mov     dword [0x300000], 0x11111111
        mov     dword [0x301000], 0x22222222
        mov     dword [PTE + 0x204 * 4], 0x300000 | 7
        invlpg  [0x204000]
        CHECK_EQ dword [0x204000], 0x11111111, "mapped to 0x300000"
        mov     dword [PTE + 0x204 * 4], 0x301000 | 7
        invlpg  [0x204000]
        CHECK_EQ dword [0x204000], 0x22222222, "INVLPG picks up the new mapping"
        mov     dword [PTE + 0x204 * 4], 0x300000 | 7
        mov     eax, cr3
        mov     cr3, eax
        CHECK_EQ dword [0x204000], 0x11111111, "CR3 reload picks up the new mapping"

        ; ---- 4 MiB pages ----
        mov     eax, cr4
        or      eax, 0x10               ; PSE
        mov     cr4, eax
        mov     dword [PD + 4], 0x400000 | 0x87     ; 4-8 MiB, user, writable
        mov     dword [PD + 8], 0x400000 | 0x83     ; 8-12 MiB -> 4-8 MiB, supervisor
        mov     eax, cr3
        mov     cr3, eax
        mov     dword [0x500000], 0xabcd
        CHECK_EQ dword [0x900000], 0xabcd, "two 4 MiB pages onto one frame"
        mov     eax, [PD + 4]
        and     eax, 0x60
        CHECK_EQ eax, 0x60, "A and D in a 4 MiB PDE"
        EXPECT_FAULT .big
        TO_RING3 .r3d
.r3d:   mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     eax, [0x500000]         ; user page: fine
        mov     eax, [0x900010]
.big:   PF_CHECK 5, 0x900010, "user read of a supervisor 4 MiB page"

        mov     eax, cr0
        and     eax, 0x7fffffff
        mov     cr0, eax
        ret

        END_IMAGE
