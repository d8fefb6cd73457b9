; Smoke test: protected mode entry, arithmetic, a #DE and a #UD.
%include "common.inc"

test_main:
        PRINT   "smoke: hello", 10
        mov     eax, 40
        add     eax, 2
        CHECK_EQ eax, 42, "add"
        EXPECT_FAULT .after_de
        xor     ecx, ecx
        div     ecx
.after_de:
        CHECK_EXC 0, -1
        EXPECT_FAULT .after_ud
        ud2
.after_ud:
        CHECK_EXC 6, -1
        ret

        END_IMAGE
