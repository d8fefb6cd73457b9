; Not a CPU test: proves the frame reports a failing check as FAIL
; (tests/integration/test_baremetal.py checks that it does not pass).
%include "common.inc"

test_main:
        mov     eax, 1
        CHECK_EQ eax, 2, "deliberate failure"
        ret

        END_IMAGE
