/*
 * Differential test: randomly generated ALU, shift, rotate, multiply,
 * divide and bit instructions (8/16/32-bit register forms) executed by
 * minipc and by the host CPU, which runs the very same bytes natively
 * (x86-64 executes these encodings with the same semantics; no memory
 * operands, no INC/DEC short forms, no ESP). Results in every register
 * and the flags the manual defines for each case must agree.
 *
 * Undefined flags are masked per case, following the SDM:
 *   AND/OR/XOR/TEST: AF;  MUL/IMUL: SF ZF AF PF;  DIV/IDIV: all;
 *   shifts: AF for counts != 0, OF for counts > 1, CF for SHL/SHR counts
 *   >= the operand size;  rotates: OF for counts != 1;  SHLD/SHRD: AF,
 *   OF for counts > 1, everything (and the result) for 16-bit counts
 *   > 16;  BT*: all but CF;  BSF/BSR: all but ZF (and the destination
 *   when the source is 0).
 * Division cases that would overflow are not run on the host; minipc
 * must raise #DE for them.
 *
 * 1,000,000 seeded cases by default (CPU_DIFF_CASES overrides).
 */
#include <sys/mman.h>

#include "cpu-test-helpers.h"

#if defined(__x86_64__)

typedef struct HostRegs {
    uint64_t r[8];      /* EAX ECX EDX EBX (ESP unused) EBP ESI EDI */
    uint64_t flags;
} HostRegs;

void host_exec(HostRegs *regs, void *code);
__asm__(
    ".text\n"
    ".globl host_exec\n"
    ".type host_exec, @function\n"
    "host_exec:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov %rdi, %r15\n  mov %rsi, %r14\n"
    "  mov 0(%r15), %rax\n  mov 8(%r15), %rcx\n  mov 16(%r15), %rdx\n  mov 24(%r15), %rbx\n"
    "  mov 40(%r15), %rbp\n  mov 48(%r15), %rsi\n  mov 56(%r15), %rdi\n"
    "  pushq 64(%r15)\n  popfq\n"
    "  call *%r14\n"
    "  pushfq\n  popq 64(%r15)\n"
    "  mov %rax, 0(%r15)\n  mov %rcx, 8(%r15)\n  mov %rdx, 16(%r15)\n  mov %rbx, 24(%r15)\n"
    "  mov %rbp, 40(%r15)\n  mov %rsi, 48(%r15)\n  mov %rdi, 56(%r15)\n"
    "  cld\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  ret\n"
    ".size host_exec, .-host_exec\n");

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static uint32_t rnd_value(void)
{
    static const uint32_t edges[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
        0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x80000001, 0x0f0f0f0f,
    };
    switch (rnd() % 4) {
    case 0: return edges[rnd() % ARRAY_SIZE(edges)];
    case 1: return rnd() & 0xff;
    default: return rnd();
    }
}

/* A register for 16/32-bit operands: never ESP. */
static int rnd_reg(void)
{
    int r;
    do {
        r = rnd() & 7;
    } while (r == R_ESP);
    return r;
}

typedef struct Case {
    uint8_t code[16];
    int len;
    uint32_t flags_mask;     /* defined flags to compare */
    uint32_t reg_mask[8];    /* per register: bits to compare */
    bool expect_de;          /* minipc must raise #DE, host not run */
    const char *what;
} Case;

#define ALLF (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O)

static void emit(Case *c, int b) { c->code[c->len++] = (uint8_t)b; }

static void prefix_size(Case *c, int sz)
{
    if (sz == 1) {
        emit(c, 0x66);
    }
}

static void emit_imm(Case *c, int sz, uint32_t v)
{
    emit(c, v);
    if (sz >= 1) {
        emit(c, v >> 8);
    }
    if (sz == 2) {
        emit(c, v >> 16);
        emit(c, v >> 24);
    }
}

/* Reads an operand-sized register value from the initial state. */
static uint32_t reg_val(const uint32_t *regs, int sz, int r)
{
    if (sz == 0) {
        return r < 4 ? regs[r] & 0xff : (regs[r - 4] >> 8) & 0xff;
    }
    return sz == 1 ? regs[r] & 0xffff : regs[r];
}

static int gen_case(Case *c, const uint32_t *regs)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < 8; i++) {
        c->reg_mask[i] = 0xffffffffu;
    }
    c->reg_mask[R_ESP] = 0;
    c->flags_mask = ALLF;
    int sz = rnd() % 3;
    int fam = rnd() % 16;
    int reg = sz == 0 ? (int)(rnd() & 7) : rnd_reg();
    int rm = sz == 0 ? (int)(rnd() & 7) : rnd_reg();
    int k = rnd() & 7;
    switch (fam) {
    case 0: case 1:                                  /* ALU r/m, r */
        prefix_size(c, sz);
        emit(c, (k << 3) | (sz ? 1 : 0) | ((rnd() & 1) << 1));
        emit(c, 0xc0 | (reg << 3) | rm);
        if (k == 1 || k == 4 || k == 6) c->flags_mask &= ~CC_A;
        c->what = "alu r,r";
        break;
    case 2: {                                        /* ALU r/m, imm */
        prefix_size(c, sz);
        int form = sz == 0 ? 0x80 : ((rnd() & 1) ? 0x83 : 0x81);
        emit(c, form);
        emit(c, 0xc0 | (k << 3) | rm);
        emit_imm(c, form == 0x81 ? sz : 0, rnd_value());
        if (k == 1 || k == 4 || k == 6) c->flags_mask &= ~CC_A;
        c->what = "alu r,imm";
        break;
    }
    case 3:                                          /* TEST */
        prefix_size(c, sz);
        if (rnd() & 1) {
            emit(c, sz ? 0x85 : 0x84);
            emit(c, 0xc0 | (reg << 3) | rm);
        } else {
            emit(c, sz ? 0xf7 : 0xf6);
            emit(c, 0xc0 | rm);
            emit_imm(c, sz, rnd_value());
        }
        c->flags_mask &= ~CC_A;
        c->what = "test";
        break;
    case 4:                                          /* INC DEC NOT NEG */
        prefix_size(c, sz);
        if (rnd() & 1) {
            emit(c, sz ? 0xff : 0xfe);
            emit(c, 0xc0 | ((rnd() & 1) << 3) | rm);
        } else {
            emit(c, sz ? 0xf7 : 0xf6);
            emit(c, 0xc0 | ((2 + (rnd() & 1)) << 3) | rm);
        }
        c->what = "inc/dec/not/neg";
        break;
    case 5: {                                        /* MUL IMUL DIV IDIV */
        int op = 4 + (rnd() & 3);
        prefix_size(c, sz);
        emit(c, sz ? 0xf7 : 0xf6);
        emit(c, 0xc0 | (op << 3) | rm);
        if (op < 6) {
            c->flags_mask = CC_C | CC_O;
            c->what = "mul/imul";
            break;
        }
        c->flags_mask = 0;
        c->what = "div/idiv";
        uint32_t d = reg_val(regs, sz, rm);
        bool de;
        if (sz == 0) {
            uint32_t a = regs[R_EAX] & 0xffff;
            if (op == 6) {
                de = d == 0 || a / d > 0xff;
            } else {
                int32_t sa = (int16_t)a, sd = (int8_t)d;
                de = sd == 0 || sa / sd > 127 || sa / sd < -128;
            }
        } else if (sz == 1) {
            uint32_t a = ((regs[R_EDX] & 0xffff) << 16) | (regs[R_EAX] & 0xffff);
            if (op == 6) {
                de = d == 0 || a / d > 0xffff;
            } else {
                int32_t sa = (int32_t)a, sd = (int16_t)d;
                de = sd == 0 || (sa == INT32_MIN && sd == -1) || sa / sd > 32767 || sa / sd < -32768;
            }
        } else {
            uint64_t a = ((uint64_t)regs[R_EDX] << 32) | regs[R_EAX];
            if (op == 6) {
                de = d == 0 || a / d > 0xffffffffu;
            } else {
                int64_t sa = (int64_t)a, sd = (int32_t)d;
                de = sd == 0 || (sa == INT64_MIN && sd == -1) || sa / sd > INT32_MAX || sa / sd < INT32_MIN;
            }
        }
        c->expect_de = de;
        break;
    }
    case 6:                                          /* IMUL r, r/m [, imm] */
        if (sz == 0) { sz = 2; reg = rnd_reg(); rm = rnd_reg(); }
        prefix_size(c, sz);
        switch (rnd() % 3) {
        case 0: emit(c, 0x0f); emit(c, 0xaf); emit(c, 0xc0 | (reg << 3) | rm); break;
        case 1: emit(c, 0x69); emit(c, 0xc0 | (reg << 3) | rm); emit_imm(c, sz, rnd_value()); break;
        default: emit(c, 0x6b); emit(c, 0xc0 | (reg << 3) | rm); emit(c, rnd()); break;
        }
        c->flags_mask = CC_C | CC_O;
        c->what = "imul 2/3";
        break;
    case 7: case 8: {                                /* shifts and rotates */
        int form = rnd() % 3;
        uint32_t count;
        prefix_size(c, sz);
        if (form == 0) {
            count = rnd() & (rnd() & 1 ? 7 : 63);
            emit(c, sz ? 0xc1 : 0xc0);
            emit(c, 0xc0 | (k << 3) | rm);
            emit(c, count);
        } else if (form == 1) {
            count = 1;
            emit(c, sz ? 0xd1 : 0xd0);
            emit(c, 0xc0 | (k << 3) | rm);
        } else {
            count = regs[R_ECX] & 0xff;
            emit(c, sz ? 0xd3 : 0xd2);
            emit(c, 0xc0 | (k << 3) | rm);
        }
        unsigned masked = count & 31, bits = 8u << sz;
        if (k == 6) {
            k = 4;      /* SAL */
            c->code[c->len - (form == 0 ? 2 : 1)] = 0xc0 | (4 << 3) | rm;
        }
        if (masked == 0) {
            /* nothing changes */
        } else if (k >= 4) {
            c->flags_mask &= ~CC_A;
            if (masked != 1) c->flags_mask &= ~CC_O;
            if ((k == 4 || k == 5) && masked >= bits) c->flags_mask &= ~CC_C;
        } else {
            c->flags_mask = CC_C | CC_O;
            if (masked != 1) c->flags_mask &= ~CC_O;
            /* rotate counts that are a multiple of the size leave CF
             * defined only for ROL/ROR; RCL/RCR always defined */
        }
        c->what = "shift/rotate";
        break;
    }
    case 9: {                                        /* SHLD SHRD */
        if (sz == 0) { sz = 2; reg = rnd_reg(); rm = rnd_reg(); }
        int right = rnd() & 1, by_cl = rnd() & 1;
        prefix_size(c, sz);
        emit(c, 0x0f);
        emit(c, (right ? 0xac : 0xa4) | by_cl);
        emit(c, 0xc0 | (reg << 3) | rm);
        uint32_t count;
        if (by_cl) {
            count = regs[R_ECX];
        } else {
            count = rnd() & 63;
            emit(c, count);
        }
        unsigned masked = count & 31;
        if (masked) {
            c->flags_mask &= ~CC_A;
            if (masked != 1) c->flags_mask &= ~CC_O;
            if (sz == 1 && masked > 16) {
                c->flags_mask = 0;
                c->reg_mask[rm] = 0;
            }
        }
        c->what = "shld/shrd";
        break;
    }
    case 10: {                                       /* BT BTS BTR BTC */
        if (sz == 0) { sz = 2; reg = rnd_reg(); rm = rnd_reg(); }
        prefix_size(c, sz);
        emit(c, 0x0f);
        if (rnd() & 1) {
            emit(c, 0xa3 | (k & 3) << 3);
            emit(c, 0xc0 | (reg << 3) | rm);
        } else {
            emit(c, 0xba);
            emit(c, 0xc0 | ((4 + (k & 3)) << 3) | rm);
            emit(c, rnd());
        }
        c->flags_mask = CC_C;
        c->what = "bt*";
        break;
    }
    case 11: {                                       /* BSF BSR */
        if (sz == 0) { sz = 2; reg = rnd_reg(); rm = rnd_reg(); }
        prefix_size(c, sz);
        emit(c, 0x0f);
        emit(c, 0xbc | (rnd() & 1));
        emit(c, 0xc0 | (reg << 3) | rm);
        c->flags_mask = CC_Z;
        if (reg_val(regs, sz, rm) == 0) {
            c->reg_mask[reg] = 0;
        }
        c->what = "bsf/bsr";
        break;
    }
    case 12:                                         /* XADD CMPXCHG */
        prefix_size(c, sz);
        emit(c, 0x0f);
        emit(c, ((rnd() & 1) ? 0xc0 : 0xb0) | (sz ? 1 : 0));
        emit(c, 0xc0 | (reg << 3) | rm);
        c->what = "xadd/cmpxchg";
        break;
    case 13:                                         /* CMOVcc SETcc */
        if (rnd() & 1) {
            if (sz == 0) { sz = 2; reg = rnd_reg(); rm = rnd_reg(); }
            prefix_size(c, sz);
            emit(c, 0x0f);
            emit(c, 0x40 | (rnd() & 15));
            emit(c, 0xc0 | (reg << 3) | rm);
        } else {
            emit(c, 0x0f);
            emit(c, 0x90 | (rnd() & 15));
            emit(c, 0xc0 | rm);
        }
        c->what = "cmov/setcc";
        break;
    case 14:                                         /* BSWAP, CBW family */
        if (rnd() & 1) {
            emit(c, 0x0f);
            emit(c, 0xc8 | rnd_reg());
        } else {
            if (rnd() & 1) emit(c, 0x66);
            emit(c, 0x98 | (rnd() & 1));
        }
        c->what = "bswap/cbw";
        break;
    default:                                         /* ADC/SBB chains: two ALU ops */
        for (int i = 0; i < 2; i++) {
            prefix_size(c, sz);
            emit(c, ((2 + (rnd() & 1)) << 3) | (sz ? 1 : 0));
            emit(c, 0xc0 | (rnd_reg() << 3) | rnd_reg());
        }
        c->what = "adc/sbb chain";
        break;
    }
    return 0;
}

START_TEST(test_differential)
{
    const char *env = getenv("CPU_DIFF_CASES");
    long ncases = env ? atol(env) : 1000000;
    uint8_t *hostcode = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(hostcode, MAP_FAILED);
    TestCPU *t = test_cpu_new();
    CPUX86State *cpu = t->cpu;
    rng_state = 0x2545f4914f6cdd1dULL;
    long compared = 0, des = 0, failures = 0;
    for (long n = 0; n < ncases; n++) {
        uint32_t regs[8];
        for (int i = 0; i < 8; i++) {
            regs[i] = rnd_value();
        }
        regs[R_ESP] = TEST_STACK;
        uint32_t flags = (rnd() & ALLF) | 2;
        Case c;
        gen_case(&c, regs);

        for (int i = 0; i < 8; i++) {
            cpu->regs[i] = regs[i];
        }
        cpu_set_eflags(cpu, flags, 0xffffffffu);
        test_cpu_run_code(t, c.code, c.len);
        uint32_t exc = test_cpu_exc(t);
        if (c.expect_de) {
            des++;
            if (exc != EXCP_DE) {
                failures++;
                fprintf(stderr, "case %ld (%s): expected #DE, got exception %d\n", n, c.what, (int)exc);
            }
            continue;
        }
        if (exc != 0xffffffffu) {
            failures++;
            fprintf(stderr, "case %ld (%s): unexpected exception %u\n", n, c.what, exc);
            continue;
        }
        HostRegs h;
        for (int i = 0; i < 8; i++) {
            h.r[i] = regs[i];
        }
        h.flags = flags;
        memcpy(hostcode, c.code, c.len);
        hostcode[c.len] = 0xc3;
        host_exec(&h, hostcode);
        bool bad = ((cpu_get_eflags(cpu) ^ (uint32_t)h.flags) & c.flags_mask) != 0;
        for (int i = 0; i < 8; i++) {
            if ((cpu->regs[i] ^ (uint32_t)h.r[i]) & c.reg_mask[i]) {
                bad = true;
            }
        }
        compared++;
        if (bad && failures++ < 20) {
            char hex[64] = "";
            for (int i = 0; i < c.len; i++) {
                snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", c.code[i]);
            }
            fprintf(stderr, "case %ld (%s) bytes %s flags in %03x mask %03x\n", n, c.what, hex,
                    flags, c.flags_mask);
            for (int i = 0; i < 8; i++) {
                fprintf(stderr, "  r%d in %08x minipc %08x host %08x\n", i, regs[i], cpu->regs[i],
                        (uint32_t)h.r[i]);
            }
            fprintf(stderr, "  flags minipc %03x host %03x\n", cpu_get_eflags(cpu) & ALLF,
                    (uint32_t)h.flags & ALLF);
        }
    }
    fprintf(stderr, "differential: %ld cases compared with the host, %ld #DE cases, %ld failures\n",
            compared, des, failures);
    ck_assert_int_eq(failures, 0);
    ck_assert_int_ge(compared + des, ncases);
    test_cpu_free(t);
    munmap(hostcode, 4096);
}
END_TEST

#endif

int main(void)
{
    Suite *s = suite_create("cpu-diff");
    TCase *tc = tcase_create("differential");
    tcase_set_timeout(tc, 0);
#if defined(__x86_64__)
    tcase_add_test(tc, test_differential);
#endif
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
