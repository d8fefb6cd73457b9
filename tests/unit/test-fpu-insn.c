/*
 * x87 instructions executed by the emulated CPU, compared with the same
 * instruction bytes executed by the host's x87.
 *
 * Every D8-DF encoding is covered: all 512 register forms (ModRM C0-FF)
 * and the 64 memory forms with a [EAX] operand, whose bytes mean the same
 * to a 32-bit guest and to a 64-bit host. For each, seeded random FPU
 * states (prior flags, condition codes, TOP, empty and full stacks for
 * stack faults, special operands, every RC/PC and mask setting) and
 * memory operands are loaded into both; the host runs FRSTOR, the
 * instruction, FNSAVE; the guest runs the instruction from its code
 * cache. Compared: FCW, FSW (TOP, ES, B, C0-C3 and all flags), the tag
 * word, the eight registers, 128 bytes of memory around the operand
 * (except the instruction/operand pointer fields of stored environments,
 * which hold host addresses on the host), ZF/PF/CF and AX. Not FOP: AMD
 * processors clear it in cases Intel's manual does not know of (the
 * guest follows the manual, tested in test-fpu-guest.c).
 *
 * Encodings the SDM calls invalid must raise #UD in the guest (they are
 * not run on the host), as must FISTTP (SSE3, not advertised).
 */
#include <check.h>
#include <stdio.h>
#include <sys/mman.h>

#include "cpu/fpu-math.h"
#include "fpu-guest.h"

/* ---- random values (as in test-fpu-oracle.c, biased to specials) ------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static FPReg gen_ext(void)
{
    FPReg v;
    uint16_t sign = (rnd() & 1) ? 0x8000 : 0;
    uint64_t m = rnd();
    switch (rndn(24)) {
    case 0: v.mant = 0; v.sign_exp = 0; break;
    case 1: v.mant = (m >> 1) | 1; v.sign_exp = 0; break;
    case 2: v.mant = m | (1ull << 63); v.sign_exp = 0; break;
    case 3: v.mant = 1ull << 63; v.sign_exp = 0x7fff; break;
    case 4: v.mant = m | (3ull << 62); v.sign_exp = 0x7fff; break;
    case 5: v.mant = ((m >> 2) | 1) | (1ull << 63); v.sign_exp = 0x7fff; break;
    case 6: v.mant = m >> 1; v.sign_exp = 1 + rndn(0x7ffe); break;
    case 7: v.mant = 3ull << 62; v.sign_exp = 0xffff; sign = 0x8000; break;
    case 8: case 9: {
        int k = rndn(66);
        v.sign_exp = 16383 + k;
        v.mant = (m | (1ull << 63));
        if (k < 63 && (rnd() & 1)) {
            v.mant &= ~0ull << (63 - k);
        }
        break;
    }
    case 10:
        v.mant = m | (1ull << 63);
        v.sign_exp = 1 + rndn(0x7ffe);
        break;
    default:
        v.mant = m | (1ull << 63);
        v.sign_exp = 16383 + (int)rndn(81) - 40;
        break;
    }
    v.sign_exp |= sign;
    return v;
}

/* ---- images ------------------------------------------------------------------------ */

typedef struct __attribute__((packed)) FSaveImage {
    uint16_t fcw, pad0, fsw, pad1, ftw, pad2;
    uint32_t fip;
    uint16_t fcs, fop;
    uint32_t fdp;
    uint16_t fds, pad3;
    uint8_t st[8][10];
} FSaveImage;

static int tag_of(const uint8_t *r)
{
    FPReg v;
    memcpy(&v.mant, r, 8);
    memcpy(&v.sign_exp, r + 8, 2);
    return fpm_tag(&v);
}

/* FRSTOR into the guest's state, independently of the FPU module. */
static void guest_load_image(CPUX86State *cpu, const FSaveImage *img)
{
    X86FPUState *f = &cpu->fpu;
    f->fcw = img->fcw;
    f->top = (img->fsw >> 11) & 7;
    f->fsw = img->fsw & ~0x3800;
    for (int i = 0; i < 8; i++) {
        FPReg *r = &f->st[(f->top + i) & 7];
        memcpy(&r->mant, img->st[i], 8);
        memcpy(&r->sign_exp, img->st[i] + 8, 2);
    }
    for (int p = 0; p < 8; p++) {
        int t = (img->ftw >> (2 * p)) & 3;
        f->ftag[p] = t == 3 ? FTAG_EMPTY : fpm_tag(&f->st[p]);
    }
    f->fop = img->fop;
    f->fip = img->fip;
    f->fcs = img->fcs;
    f->fdp = img->fdp;
    f->fds = img->fds;
}

/* FNSAVE of the guest's state. */
static void guest_save_image(const CPUX86State *cpu, FSaveImage *img)
{
    const X86FPUState *f = &cpu->fpu;
    memset(img, 0, sizeof(*img));
    img->fcw = f->fcw;
    img->fsw = (f->fsw & ~0x3800) | (f->top << 11);
    for (int p = 0; p < 8; p++) {
        int t = f->ftag[p] == FTAG_EMPTY ? 3 : fpm_tag(&f->st[p]);
        img->ftw |= t << (2 * p);
    }
    for (int i = 0; i < 8; i++) {
        const FPReg *r = &f->st[(f->top + i) & 7];
        memcpy(img->st[i], &r->mant, 8);
        memcpy(img->st[i] + 8, &r->sign_exp, 2);
    }
    img->fop = f->fop;
}

/* ---- the host side -------------------------------------------------------------------- */

typedef void HostStub(const FSaveImage *in, void *mem, FSaveImage *out, uint64_t rflags,
                      uint64_t *rflags_out, uint16_t *ax_out);
static uint8_t *stub_page;

/* push rbx; push rcx; popfq; frstor [rdi]; mov rax, rsi; <insn>;
 * fnsave [rdx]; pushfq; pop rcx; mov [r8], rcx; mov [r9], ax; pop rbx; ret */
static HostStub *host_stub(const uint8_t *insn, size_t len)
{
    static const uint8_t head[] = { 0x53, 0x51, 0x9d, 0xdd, 0x27, 0x48, 0x89, 0xf0 };
    static const uint8_t tail[] = { 0xdd, 0x32, 0x9c, 0x59, 0x49, 0x89, 0x08,
                                    0x66, 0x41, 0x89, 0x01, 0x5b, 0xc3 };
    uint8_t *p = stub_page;
    memcpy(p, head, sizeof(head));
    p += sizeof(head);
    memcpy(p, insn, len);
    p += len;
    memcpy(p, tail, sizeof(tail));
    __builtin___clear_cache((char *)stub_page, (char *)p + sizeof(tail));
    return (HostStub *)stub_page;
}

/* ---- instruction classes --------------------------------------------------------------------- */

enum { MEM_NONE, MEM_F32, MEM_F64, MEM_F80, MEM_I16, MEM_I32, MEM_I64, MEM_BCD, MEM_ENV, MEM_SAVE, MEM_W };

static bool reg_form_valid(int esc, uint8_t m)
{
    switch (esc) {
    case 1:
        if (m >= 0xd1 && m <= 0xd7) return false;
        return m != 0xe2 && m != 0xe3 && m != 0xe6 && m != 0xe7 && m != 0xef;
    case 2:
        return m < 0xe0 || m == 0xe9;
    case 3:
        return m < 0xe5 || (m >= 0xe8 && m < 0xf8);
    case 5:
        return m < 0xf0;
    case 6:
        return !(m >= 0xd8 && m < 0xe0) || m == 0xd9;
    case 7:
        return !(m >= 0xe1 && m < 0xe8) && m < 0xf8;
    default:
        return true;
    }
}

/* Memory operand format of esc/reg, MEM_NONE if the form is invalid. */
static int mem_form(int esc, int reg)
{
    static const int8_t arith[8] = { MEM_F32, 0, MEM_I32, 0, MEM_F64, 0, MEM_I16, 0 };
    if (!(esc & 1)) {
        return arith[esc];
    }
    static const int8_t odd[4][8] = {
        { MEM_F32, 0, MEM_F32, MEM_F32, MEM_ENV, MEM_W, MEM_ENV, MEM_W },     /* D9 */
        { MEM_I32, 0, MEM_I32, MEM_I32, 0, MEM_F80, 0, MEM_F80 },             /* DB */
        { MEM_F64, 0, MEM_F64, MEM_F64, MEM_SAVE, 0, MEM_SAVE, MEM_W },       /* DD */
        { MEM_I16, 0, MEM_I16, MEM_I16, MEM_BCD, MEM_I64, MEM_BCD, MEM_I64 }, /* DF */
    };
    return odd[esc >> 1][reg];
}

static void gen_operand(uint8_t *mem, int kind, bool o16)
{
    for (int i = 0; i < 128; i++) {
        mem[i] = (uint8_t)rnd();
    }
    switch (kind) {
    case MEM_F32: {
        uint32_t v;
        switch (rndn(6)) {
        case 0: v = (uint32_t)rnd() & 0x807fffff; break;                  /* denormal/zero */
        case 1: v = ((uint32_t)rnd() & 0x807fffff) | 0x7f800000; break;  /* inf/NaN */
        default: v = ((uint32_t)rnd() & 0x807fffff) | ((100 + rndn(56)) << 23); break;
        }
        memcpy(mem, &v, 4);
        break;
    }
    case MEM_F64: {
        uint64_t v;
        switch (rndn(6)) {
        case 0: v = rnd() & 0x800fffffffffffffull; break;
        case 1: v = (rnd() & 0x800fffffffffffffull) | 0x7ff0000000000000ull; break;
        default: v = (rnd() & 0x800fffffffffffffull) | ((uint64_t)(1000 + rndn(48)) << 52); break;
        }
        memcpy(mem, &v, 8);
        break;
    }
    case MEM_F80: {
        FPReg v = gen_ext();
        memcpy(mem, &v.mant, 8);
        memcpy(mem + 8, &v.sign_exp, 2);
        break;
    }
    case MEM_I16: case MEM_I32: case MEM_I64:
        if (rnd() & 1) {
            int64_t v = (int64_t)rndn(2001) - 1000;
            memcpy(mem, &v, 8);
        }
        break;
    case MEM_BCD:
        for (int i = 0; i < 9; i++) {
            mem[i] = (uint8_t)((rndn(10) << 4) | rndn(10));
        }
        mem[9] &= 0x80;
        break;
    case MEM_W:
        /* FLDCW: mostly masked control words. */
        if (rnd() & 1) {
            mem[0] |= 0x3f;
        }
        break;
    case MEM_ENV: case MEM_SAVE: {
        /* An image worth loading: sensible FCW/FSW, some empty tags. */
        uint16_t fcw = (uint16_t)((rnd() & 0x1f00) | 0x7f);
        uint16_t fsw = (uint16_t)(rnd() & 0x7f7f);
        uint16_t ftw = (uint16_t)rnd();
        if (o16) {
            memcpy(mem, &fcw, 2);
            memcpy(mem + 2, &fsw, 2);
            memcpy(mem + 4, &ftw, 2);
        } else {
            memcpy(mem, &fcw, 2);
            memcpy(mem + 4, &fsw, 2);
            memcpy(mem + 8, &ftw, 2);
        }
        int off = o16 ? 14 : 28;
        for (int i = 0; kind == MEM_SAVE && i < 8; i++) {
            FPReg v = gen_ext();
            memcpy(mem + off + 10 * i, &v.mant, 8);
            memcpy(mem + off + 10 * i + 8, &v.sign_exp, 2);
        }
        break;
    }
    }
}

static void gen_image(FSaveImage *img)
{
    memset(img, 0, sizeof(*img));
    uint16_t masks;
    switch (rndn(4)) {
    case 0: case 1: masks = 0x3f; break;
    case 2: masks = 0; break;
    default: masks = rnd() & 0x3f; break;
    }
    img->fcw = 0x40 | masks | (rnd() & 0x1f00);
    int top = rndn(8);
    uint16_t flags = rnd() & img->fcw & 0x3f;
    if ((img->fcw & 1) && (rnd() & 1)) {
        flags |= FSW_SF;
    }
    img->fsw = flags | (rnd() & 0x4700) | (top << 11);
    /* Stack depth: mostly ST(0)-ST(2) in use, sometimes empty operands,
     * sometimes a full stack. */
    int depth;
    switch (rndn(8)) {
    case 0: depth = 0; break;
    case 1: depth = 1; break;
    case 2: depth = 8; break;
    default: depth = 3 + rndn(4); break;
    }
    img->ftw = 0xffff;
    for (int i = 0; i < 8; i++) {
        FPReg v = gen_ext();
        if (i > 0 && (rnd() & 3) == 0) {
            FPReg prev;
            memcpy(&prev.mant, img->st[0], 8);
            memcpy(&prev.sign_exp, img->st[0] + 8, 2);
            v = prev;
            v.mant ^= rnd() >> rndn(64);
        }
        memcpy(img->st[i], &v.mant, 8);
        memcpy(img->st[i] + 8, &v.sign_exp, 2);
        bool used = i < depth || (depth > 0 && depth < 8 && i < 7 && rndn(8) == 0);
        if (depth == 0 && rndn(4) == 0 && i > 0) {
            used = true;   /* a hole at ST(0) */
        }
        if (used) {
            int p = (top + i) & 7;
            img->ftw &= ~(3 << (2 * p));
            img->ftw |= tag_of(img->st[i]) << (2 * p);
        }
    }
    img->fop = rnd() & 0x7ff;
}

/* Bytes of memory an instruction's environment image keeps host pointers
 * in (FIP, FCS, FDP, FDS). */
static void mask_env_pointers(uint8_t *mem, bool o16)
{
    if (o16) {
        memset(mem + 6, 0, 2);
        memset(mem + 8, 0, 2);
        memset(mem + 10, 0, 4);
    } else {
        memset(mem + 12, 0, 6);   /* FIP, FCS (FOP kept) */
        memset(mem + 20, 0, 8);
    }
}

static Guest *guest;

static void check_encoding(const uint8_t *insn, size_t len, int kind, bool o16, int iterations)
{
    HostStub *stub = host_stub(insn, len);
    guest_set_code(guest, insn, len);
    CPUX86State *cpu = guest->cpu;
    bool stores_env = false;
    uint8_t op = insn[len - 2], modrm = insn[len - 1];
    int reg = (modrm >> 3) & 7;
    if ((op == 0xd9 && reg == 6) || (op == 0xdd && reg == 6)) {
        stores_env = modrm < 0xc0;
    }
    for (int it = 0; it < iterations; it++) {
        FSaveImage in, host_out, guest_out;
        uint8_t host_mem[128], guest_mem[128];
        gen_image(&in);
        gen_operand(host_mem, kind, o16);
        memcpy(guest_mem, host_mem, 128);
        uint64_t cc = rnd() & (CC_C | CC_P | CC_Z);
        uint64_t host_flags;
        uint16_t host_ax = 0xdead;

        stub(&in, host_mem, &host_out, 0x202 | cc, &host_flags, &host_ax);

        guest_load_image(cpu, &in);
        memcpy(guest->mem + DATA_ADDR, guest_mem, 128);
        cpu->regs[R_EAX] = DATA_ADDR;
        cpu_set_eflags(cpu, (uint32_t)cc, CC_C | CC_P | CC_Z);
        int vec = guest_run(guest);
        guest_save_image(cpu, &guest_out);
        memcpy(guest_mem, guest->mem + DATA_ADDR, 128);
        uint32_t guest_flags = cpu_get_eflags(cpu) & (CC_C | CC_P | CC_Z);
        uint16_t guest_ax = (uint16_t)cpu->regs[R_EAX];

        if (stores_env) {
            mask_env_pointers(host_mem, o16);
            mask_env_pointers(guest_mem, o16);
        }
        bool ax_matters = op == 0xdf && modrm == 0xe0;
        /* FCOMI/FUCOMI(P): AMD processors keep C1, the SDM (and the guest)
         * clear it. */
        bool fcomi = (op == 0xdb || op == 0xdf) && modrm >= 0xe8 && modrm < 0xf8;
        if (fcomi && (in.fsw & FSW_C1) && (host_out.fsw & FSW_C1) && !(guest_out.fsw & FSW_C1)) {
            guest_out.fsw |= FSW_C1;
        }
        bool same = vec < 0 && host_out.fcw == guest_out.fcw && host_out.fsw == guest_out.fsw &&
                    host_out.ftw == guest_out.ftw &&
                    !memcmp(host_out.st, guest_out.st, sizeof(host_out.st)) &&
                    !memcmp(host_mem, guest_mem, 128) &&
                    (host_flags & (CC_C | CC_P | CC_Z)) == guest_flags &&
                    (!ax_matters || host_ax == guest_ax);
        if (!same) {
            char buf[2048];
            int n = snprintf(buf, sizeof(buf), "insn");
            for (size_t i = 0; i < len; i++) {
                n += snprintf(buf + n, sizeof(buf) - n, " %02x", insn[i]);
            }
            n += snprintf(buf + n, sizeof(buf) - n,
                          " (case %d): vector %d\n  in:    fcw %04x fsw %04x ftw %04x flags %02x\n"
                          "  host:  fcw %04x fsw %04x ftw %04x flags %02x ax %04x fop %03x\n"
                          "  guest: fcw %04x fsw %04x ftw %04x flags %02x ax %04x fop %03x\n",
                          it, vec, in.fcw, in.fsw, in.ftw, (unsigned)cc,
                          host_out.fcw, host_out.fsw, host_out.ftw, (unsigned)(host_flags & 0x45), host_ax,
                          host_out.fop, guest_out.fcw, guest_out.fsw, guest_out.ftw, guest_flags, guest_ax,
                          guest_out.fop);
            for (int i = 0; i < 8; i++) {
                uint64_t a, b, c;
                uint16_t ea, eb, ec;
                memcpy(&a, in.st[i], 8); memcpy(&ea, in.st[i] + 8, 2);
                memcpy(&b, host_out.st[i], 8); memcpy(&eb, host_out.st[i] + 8, 2);
                memcpy(&c, guest_out.st[i], 8); memcpy(&ec, guest_out.st[i] + 8, 2);
                n += snprintf(buf + n, sizeof(buf) - n,
                              "  st%d in %04x:%016" PRIx64 " host %04x:%016" PRIx64 " guest %04x:%016" PRIx64 "\n",
                              i, ea, a, eb, b, ec, c);
            }
            for (int i = 0; i < 128; i++) {
                if (host_mem[i] != guest_mem[i]) {
                    n += snprintf(buf + n, sizeof(buf) - n, "  mem[%d] host %02x guest %02x\n",
                                  i, host_mem[i], guest_mem[i]);
                    if (n > 1800) {
                        break;
                    }
                }
            }
            ck_abort_msg("%s", buf);
        }
    }
}

static void setup(void)
{
    stub_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(stub_page, MAP_FAILED);
    guest = guest_new();
}

static void teardown(void)
{
    guest_free(guest);
    munmap(stub_page, 4096);
}

#define ITER 1000

/* Register forms of one escape byte (all 64 ModRM values per reg field). */
static void check_reg_forms(int esc)
{
    rng_state = 0x1000 + esc;
    for (int m = 0xc0; m <= 0xff; m++) {
        uint8_t insn[2] = { (uint8_t)(0xd8 + esc), (uint8_t)m };
        if (reg_form_valid(esc, (uint8_t)m)) {
            check_encoding(insn, 2, MEM_NONE, false, ITER);
        } else {
            guest_set_code(guest, insn, 2);
            ck_assert_msg(guest_run(guest) == EXCP_UD, "%02x %02x should be #UD", insn[0], insn[1]);
        }
    }
}

START_TEST(test_reg_forms)
{
    check_reg_forms(_i);
}
END_TEST

START_TEST(test_mem_forms)
{
    rng_state = 0x2000;
    for (int esc = 0; esc < 8; esc++) {
        for (int reg = 0; reg < 8; reg++) {
            uint8_t insn[3] = { 0x66, (uint8_t)(0xd8 + esc), (uint8_t)(reg << 3) };
            int kind = mem_form(esc, reg);
            if (kind == MEM_NONE) {
                guest_set_code(guest, insn + 1, 2);
                ck_assert_msg(guest_run(guest) == EXCP_UD, "%02x %02x should be #UD", insn[1], insn[2]);
                continue;
            }
            check_encoding(insn + 1, 2, kind, false, ITER * 4);
            if (kind == MEM_ENV || kind == MEM_SAVE) {
                /* 16-bit layouts */
                check_encoding(insn, 3, kind, true, ITER * 4);
            }
        }
    }
}
END_TEST

static Suite *fpu_insn_suite(void)
{
    Suite *s = suite_create("fpu-insn");
    TCase *tc = tcase_create("insn");
    tcase_set_timeout(tc, 0);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_reg_forms, 0, 8);
    tcase_add_test(tc, test_mem_forms);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_insn_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
