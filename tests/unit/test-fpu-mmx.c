/*
 * MMX instructions executed by the emulated CPU, compared with the same
 * bytes executed by the host (every register pair, the [EAX] memory
 * forms, the shift groups with interesting counts, MOVD to and from
 * ECX/EDX, EMMS), over random MMX values and random x87 states (TOP,
 * tags), comparing the whole FNSAVE image, memory and ECX/EDX. Also the
 * guest-only rules: CR0.EM gives #UD, CR0.TS #NM, a pending x87
 * exception #MF, and the SSE2 (66-prefixed) forms #UD.
 */
#include <check.h>
#include <stdio.h>
#include <sys/mman.h>

#include "cpu/fpu-math.h"
#include "fpu-guest.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Lane values with saturation edges. */
static uint64_t rnd_mmx(void)
{
    uint64_t v = rnd();
    switch (rnd() % 6) {
    case 0: {
        static const uint64_t pats[] = { 0, ~0ull, 0x8000800080008000ull, 0x7fff7fff7fff7fffull,
                                         0x8080808080808080ull, 0x7f7f7f7f7f7f7f7full,
                                         0x80000000ffffffffull, 0x00ff00ff00ff00ffull };
        return pats[rnd() % 8];
    }
    case 1: return v & 0x00ff00ff00ff00ffull;
    case 2: return v | 0x8080808080808080ull;
    default: return v;
    }
}

typedef struct __attribute__((packed)) FSaveImage {
    uint16_t fcw, pad0, fsw, pad1, ftw, pad2;
    uint32_t fip;
    uint16_t fcs, fop;
    uint32_t fdp;
    uint16_t fds, pad3;
    uint8_t st[8][10];
} FSaveImage;

typedef struct HostCtx {
    FSaveImage in, out;
    uint8_t *mem;
    uint64_t rcx, rdx;
} HostCtx;

static uint8_t *code_page;

/* FRSTOR, then the instruction (called on an executable page, with RAX =
 * mem, RCX/RDX from the context), then FNSAVE. The red zone is skipped
 * before the call. */
static void host_exec(HostCtx *c, const uint8_t *insn, size_t len)
{
    memcpy(code_page, insn, len);
    code_page[len] = 0xc3;
    __builtin___clear_cache((char *)code_page, (char *)code_page + len + 1);
    FSaveImage *in = &c->in, *out = &c->out;
    uint64_t rcx = c->rcx, rdx = c->rdx;
    __asm__ volatile("sub $128, %%rsp\n\t"
                     "frstor (%[in])\n\t"
                     "mov %[mem], %%rax\n\t"
                     "call *%[code]\n\t"
                     "fnsave (%[out])\n\t"
                     "add $128, %%rsp"
                     : "+c"(rcx), "+d"(rdx)
                     : [in] "r"(in), [out] "r"(out), [mem] "r"(c->mem), [code] "r"(code_page)
                     : "rax", "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
                       "st(6)", "st(7)");
    c->rcx = rcx;
    c->rdx = rdx;
}

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
        f->ftag[p] = ((img->ftw >> (2 * p)) & 3) == 3 ? FTAG_EMPTY : fpm_tag(&f->st[p]);
    }
}

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
}

static void gen_image(FSaveImage *img)
{
    memset(img, 0, sizeof(*img));
    img->fcw = 0x037f;
    int top = rnd() % 8;
    img->fsw = (uint16_t)((rnd() & 0x4700) | (top << 11));
    img->ftw = (uint16_t)rnd();
    for (int i = 0; i < 8; i++) {
        uint64_t m = rnd_mmx();
        uint16_t e = (rnd() & 1) ? 0xffff : (uint16_t)rnd();
        memcpy(img->st[i], &m, 8);
        memcpy(img->st[i] + 8, &e, 2);
    }
}

static Guest *guest;

static void check(const uint8_t *insn, size_t len, int iterations)
{
    guest_set_code(guest, insn, len);
    CPUX86State *cpu = guest->cpu;
    for (int it = 0; it < iterations; it++) {
        HostCtx h;
        uint8_t host_mem[64], guest_mem[64];
        gen_image(&h.in);
        for (int i = 0; i < 64; i += 8) {
            uint64_t v = rnd_mmx();
            memcpy(host_mem + i, &v, 8);
        }
        memcpy(guest_mem, host_mem, 64);
        h.mem = host_mem;
        h.rcx = rnd_mmx();
        h.rdx = rnd() % 80;
        uint32_t ecx = (uint32_t)h.rcx, edx = (uint32_t)h.rdx;
        host_exec(&h, insn, len);

        FSaveImage gout;
        guest_load_image(cpu, &h.in);
        memcpy(guest->mem + DATA_ADDR, guest_mem, 64);
        cpu->regs[R_EAX] = DATA_ADDR;
        cpu->regs[R_ECX] = ecx;
        cpu->regs[R_EDX] = edx;
        int vec = guest_run(guest);
        guest_save_image(cpu, &gout);
        memcpy(guest_mem, guest->mem + DATA_ADDR, 64);

        bool same = vec < 0 && h.out.fcw == gout.fcw && h.out.fsw == gout.fsw &&
                    h.out.ftw == gout.ftw && !memcmp(h.out.st, gout.st, sizeof(gout.st)) &&
                    !memcmp(host_mem, guest_mem, 64) &&
                    (uint32_t)h.rcx == cpu->regs[R_ECX] && (uint32_t)h.rdx == cpu->regs[R_EDX];
        if (!same) {
            char buf[2048];
            int n = snprintf(buf, sizeof(buf), "insn");
            for (size_t i = 0; i < len; i++) {
                n += snprintf(buf + n, sizeof(buf) - n, " %02x", insn[i]);
            }
            n += snprintf(buf + n, sizeof(buf) - n,
                          " (case %d): vector %d\n  in ecx %08x edx %08x fsw %04x ftw %04x\n"
                          "  host  ecx %08x edx %08x fsw %04x ftw %04x\n"
                          "  guest ecx %08x edx %08x fsw %04x ftw %04x\n",
                          it, vec, ecx, edx, h.in.fsw, h.in.ftw, (uint32_t)h.rcx, (uint32_t)h.rdx,
                          h.out.fsw, h.out.ftw, cpu->regs[R_ECX], cpu->regs[R_EDX], gout.fsw, gout.ftw);
            for (int i = 0; i < 8; i++) {
                uint64_t a, b, c;
                uint16_t ea, eb, ec;
                memcpy(&a, h.in.st[i], 8); memcpy(&ea, h.in.st[i] + 8, 2);
                memcpy(&b, h.out.st[i], 8); memcpy(&eb, h.out.st[i] + 8, 2);
                memcpy(&c, gout.st[i], 8); memcpy(&ec, gout.st[i] + 8, 2);
                n += snprintf(buf + n, sizeof(buf) - n,
                              "  st%d in %04x:%016" PRIx64 " host %04x:%016" PRIx64 " guest %04x:%016" PRIx64 "\n",
                              i, ea, a, eb, b, ec, c);
            }
            uint64_t hm, gm;
            memcpy(&hm, host_mem, 8);
            memcpy(&gm, guest_mem, 8);
            n += snprintf(buf + n, sizeof(buf) - n, "  mem host %016" PRIx64 " guest %016" PRIx64, hm, gm);
            ck_abort_msg("%s", buf);
        }
    }
}

static const uint8_t binops[] = {
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76,
    0xd1, 0xd2, 0xd3, 0xd5, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5, 0xe8, 0xe9,
    0xeb, 0xec, 0xed, 0xef, 0xf1, 0xf2, 0xf3, 0xf5, 0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xfe,
    0x6f, 0x7f,
};

static void setup(void)
{
    code_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(code_page, MAP_FAILED);
    guest = guest_new();
}

static void teardown(void)
{
    guest_free(guest);
    munmap(code_page, 4096);
}

START_TEST(test_binops)
{
    rng_state = 0x4d4d5800 + _i;
    uint8_t op = binops[_i];
    for (int m = 0xc0; m <= 0xff; m++) {
        uint8_t insn[3] = { 0x0f, op, (uint8_t)m };
        check(insn, 3, 60);
    }
    for (int reg = 0; reg < 8; reg++) {
        uint8_t insn[3] = { 0x0f, op, (uint8_t)(reg << 3) };     /* [eax] */
        check(insn, 3, 200);
    }
}
END_TEST

START_TEST(test_shift_imm)
{
    static const uint8_t counts[] = { 0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 255 };
    static const struct { uint8_t op, reg; } forms[] = {
        { 0x71, 2 }, { 0x71, 4 }, { 0x71, 6 }, { 0x72, 2 }, { 0x72, 4 }, { 0x72, 6 }, { 0x73, 2 }, { 0x73, 6 },
    };
    rng_state = 0x5348;
    for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
        for (int rm = 0; rm < 8; rm++) {
            for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
                uint8_t insn[4] = { 0x0f, forms[f].op, (uint8_t)(0xc0 | forms[f].reg << 3 | rm), counts[c] };
                check(insn, 4, 20);
            }
        }
    }
}
END_TEST

START_TEST(test_movd_emms)
{
    rng_state = 0x4d4f5644;
    for (int reg = 0; reg < 8; reg++) {
        /* MOVD mm, ecx / edx / [eax]; MOVD ecx / edx / [eax], mm */
        uint8_t forms[6][3] = {
            { 0x0f, 0x6e, (uint8_t)(0xc1 | reg << 3) }, { 0x0f, 0x6e, (uint8_t)(0xc2 | reg << 3) },
            { 0x0f, 0x6e, (uint8_t)(reg << 3) },
            { 0x0f, 0x7e, (uint8_t)(0xc1 | reg << 3) }, { 0x0f, 0x7e, (uint8_t)(0xc2 | reg << 3) },
            { 0x0f, 0x7e, (uint8_t)(reg << 3) },
        };
        for (int i = 0; i < 6; i++) {
            check(forms[i], 3, 100);
        }
    }
    static const uint8_t emms[2] = { 0x0f, 0x77 };
    check(emms, 2, 200);
}
END_TEST

START_TEST(test_guest_rules)
{
    CPUX86State *cpu = guest->cpu;
    static const uint8_t paddb[3] = { 0x0f, 0xfc, 0xc1 };
    static const uint8_t sse2_paddb[4] = { 0x66, 0x0f, 0xfc, 0xc1 };
    static const uint8_t emms[2] = { 0x0f, 0x77 };
    cpu->fpu.fcw = 0x037f;
    cpu->fpu.fsw = 0;
    guest_set_code(guest, paddb, 3);
    ck_assert_int_eq(guest_run(guest), -1);
    cpu->cr[0] |= CR0_EM;
    ck_assert_int_eq(guest_run(guest), EXCP_UD);
    guest_set_code(guest, emms, 2);
    ck_assert_int_eq(guest_run(guest), EXCP_UD);
    cpu->cr[0] = (cpu->cr[0] & ~CR0_EM) | CR0_TS;
    ck_assert_int_eq(guest_run(guest), EXCP_NM);
    guest_set_code(guest, paddb, 3);
    ck_assert_int_eq(guest_run(guest), EXCP_NM);
    cpu->cr[0] &= ~CR0_TS;
    /* A pending unmasked x87 exception: #MF (CR0.NE is set). */
    cpu->fpu.fcw = 0x037e;
    cpu->fpu.fsw = FSW_IE | FSW_ES | FSW_B;
    ck_assert_int_eq(guest_run(guest), EXCP_MF);
    cpu->fpu.fcw = 0x037f;
    cpu->fpu.fsw = 0;
    guest_set_code(guest, sse2_paddb, 4);
    ck_assert_int_eq(guest_run(guest), EXCP_UD);
}
END_TEST

static Suite *fpu_mmx_suite(void)
{
    Suite *s = suite_create("fpu-mmx");
    TCase *tc = tcase_create("mmx");
    tcase_set_timeout(tc, 0);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_binops, 0, ARRAY_SIZE(binops));
    tcase_add_test(tc, test_shift_imm);
    tcase_add_test(tc, test_movd_emms);
    tcase_add_test(tc, test_guest_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_mmx_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
