/*
 * HMP argument parsing: a command's spec ("tag:s?,size:o") applied to
 * the text after its name, giving a MonitorArgs, and the integer
 * expression evaluator behind 'i' and 'l'.
 *
 * Messages follow QEMU's ("invalid char 'z' in expression",
 * "NAME: extraneous characters at the end of line") so people and
 * scripts see what they know. One deliberate difference: a binary
 * operator after a space must also be followed by a space to continue
 * an expression, so "memsave 0 10 /tmp/f" reads the size 10 and the file
 * /tmp/f, where QEMU tries to divide by "tmp".
 */
#include <ctype.h>
#include <stdio.h>

#include "monitor-internal.h"

static MonitorRegisterFn *reg_fn;
static void *reg_opaque;

void monitor_set_register_fn(MonitorRegisterFn *fn, void *opaque)
{
    reg_fn = fn;
    reg_opaque = opaque;
}

/* ---- MonitorArgs ---- */

static MonitorArg *args_find(const MonitorArgs *args, const char *name)
{
    if (!args) {
        return NULL;
    }
    for (int i = 0; i < args->n; i++) {
        if (!strcmp(args->v[i].name, name)) {
            return &args->v[i];
        }
    }
    return NULL;
}

static MonitorArg *args_add(MonitorArgs *args, const char *name, MonitorArgKind kind)
{
    MonitorArg *a = args_find(args, name);
    if (!a) {
        args->v = xrealloc(args->v, (args->n + 1) * sizeof(*args->v));
        a = &args->v[args->n++];
        memset(a, 0, sizeof(*a));
        a->name = xstrdup(name);
    } else {
        free(a->str);
        a->str = NULL;
    }
    a->kind = kind;
    return a;
}

void monitor_args_free(MonitorArgs *args)
{
    if (!args) {
        return;
    }
    for (int i = 0; i < args->n; i++) {
        free(args->v[i].name);
        free(args->v[i].str);
    }
    free(args->v);
    free(args);
}

bool monitor_arg_has(const MonitorArgs *args, const char *name)
{
    return args_find(args, name) != NULL;
}

const char *monitor_arg_str(const MonitorArgs *args, const char *name, const char *def)
{
    MonitorArg *a = args_find(args, name);
    return a && a->kind == MARG_STR ? a->str : def;
}

int64_t monitor_arg_int(const MonitorArgs *args, const char *name, int64_t def)
{
    MonitorArg *a = args_find(args, name);
    return a && a->kind == MARG_INT ? a->i : def;
}

bool monitor_arg_bool(const MonitorArgs *args, const char *name, bool def)
{
    MonitorArg *a = args_find(args, name);
    return a && a->kind == MARG_BOOL ? a->b : def;
}

/* ---- expressions ---- */

typedef struct Expr {
    const char *p;
    Error **errp;
    bool failed;
} Expr;

static void expr_error(Expr *e, const char *msg)
{
    if (!e->failed) {
        e->failed = true;
        error_setg(e->errp, "%s", msg);
    }
}

static void expr_skip(Expr *e)
{
    while (*e->p == ' ' || *e->p == '\t') {
        e->p++;
    }
}

/* Is there a binary operator 'op' (1 or 2 chars) next? Inside an
 * expression spaces are allowed around operators, but an operator that
 * follows a space must be followed by one too (see the top). */
static bool expr_op(Expr *e, const char *op)
{
    const char *q = e->p;
    bool spaced = false;
    while (*q == ' ' || *q == '\t') {
        q++;
        spaced = true;
    }
    size_t n = strlen(op);
    if (strncmp(q, op, n)) {
        return false;
    }
    /* "<" must not match the start of "<<" etc. */
    if (n == 1 && (q[1] == '<' || q[1] == '>') && q[0] == q[1]) {
        return false;
    }
    if (spaced && q[n] != ' ' && q[n] != '\t') {
        return false;
    }
    e->p = q + n;
    return true;
}

static int64_t expr_or(Expr *e);

static int64_t expr_primary(Expr *e)
{
    expr_skip(e);
    char c = *e->p;
    if (c == '(') {
        e->p++;
        int64_t v = expr_or(e);
        expr_skip(e);
        if (*e->p != ')') {
            expr_error(e, "')' expected");
            return 0;
        }
        e->p++;
        return v;
    }
    if (c == '\'') {
        if (!e->p[1] || e->p[2] != '\'') {
            expr_error(e, "invalid char constant");
            return 0;
        }
        int64_t v = (unsigned char)e->p[1];
        e->p += 3;
        return v;
    }
    if (c == '$') {
        const char *start = ++e->p;
        while (isalnum((unsigned char)*e->p) || *e->p == '_' || *e->p == '.') {
            e->p++;
        }
        char name[64];
        size_t n = MIN((size_t)(e->p - start), sizeof(name) - 1);
        memcpy(name, start, n);
        name[n] = 0;
        int64_t v = 0;
        if (!n || !reg_fn || !reg_fn(name, &v, reg_opaque)) {
            if (!e->failed) {
                e->failed = true;
                error_setg(e->errp, "unknown register '%s'", name);
            }
            return 0;
        }
        return v;
    }
    if (c >= '0' && c <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(e->p, &end, 0);
        if (errno == ERANGE) {
            expr_error(e, "number too large");
            return 0;
        }
        e->p = end;
        if (isalnum((unsigned char)*e->p) || *e->p == '_') {
            char msg[64];
            snprintf(msg, sizeof(msg), "invalid char '%c' in expression", *e->p);
            expr_error(e, msg);
            return 0;
        }
        return (int64_t)v;
    }
    if (c == 0) {
        expr_error(e, "unexpected end of expression");
    } else {
        char msg[64];
        snprintf(msg, sizeof(msg), "invalid char '%c' in expression",
                 isprint((unsigned char)c) ? c : '?');
        expr_error(e, msg);
    }
    return 0;
}

static int64_t expr_unary(Expr *e)
{
    expr_skip(e);
    switch (*e->p) {
    case '-':
        e->p++;
        return (int64_t)(0 - (uint64_t)expr_unary(e));
    case '+':
        e->p++;
        return expr_unary(e);
    case '~':
        e->p++;
        return ~expr_unary(e);
    default:
        return expr_primary(e);
    }
}

static int64_t expr_prod(Expr *e)
{
    int64_t v = expr_unary(e);
    while (!e->failed) {
        if (expr_op(e, "*")) {
            v = (int64_t)((uint64_t)v * (uint64_t)expr_unary(e));
        } else if (expr_op(e, "/") || expr_op(e, "%")) {
            bool div = e->p[-1] == '/';
            int64_t d = expr_unary(e);
            if (e->failed) {
                break;
            }
            if (d == 0) {
                expr_error(e, "division by zero");
                break;
            }
            if (v == INT64_MIN && d == -1) {
                v = div ? INT64_MIN : 0;
            } else {
                v = div ? v / d : v % d;
            }
        } else {
            break;
        }
    }
    return v;
}

static int64_t expr_sum(Expr *e)
{
    int64_t v = expr_prod(e);
    while (!e->failed) {
        if (expr_op(e, "+")) {
            v = (int64_t)((uint64_t)v + (uint64_t)expr_prod(e));
        } else if (expr_op(e, "-")) {
            v = (int64_t)((uint64_t)v - (uint64_t)expr_prod(e));
        } else {
            break;
        }
    }
    return v;
}

static int64_t expr_shift(Expr *e)
{
    int64_t v = expr_sum(e);
    while (!e->failed) {
        bool left = expr_op(e, "<<");
        if (!left && !expr_op(e, ">>")) {
            break;
        }
        int64_t s = expr_sum(e);
        if (s < 0 || s > 63) {
            v = 0;
        } else {
            v = left ? (int64_t)((uint64_t)v << s) : (int64_t)((uint64_t)v >> s);
        }
    }
    return v;
}

static int64_t expr_and(Expr *e)
{
    int64_t v = expr_shift(e);
    while (!e->failed && expr_op(e, "&")) {
        v &= expr_shift(e);
    }
    return v;
}

static int64_t expr_xor(Expr *e)
{
    int64_t v = expr_and(e);
    while (!e->failed && expr_op(e, "^")) {
        v ^= expr_and(e);
    }
    return v;
}

static int64_t expr_or(Expr *e)
{
    int64_t v = expr_xor(e);
    while (!e->failed && expr_op(e, "|")) {
        v |= expr_xor(e);
    }
    return v;
}

int monitor_parse_expr(const char **pp, int64_t *out, Error **errp)
{
    Expr e = { .p = *pp, .errp = errp };
    int64_t v = expr_or(&e);
    if (e.failed) {
        return -EINVAL;
    }
    *pp = e.p;
    *out = v;
    return 0;
}

/* ---- argument specs ---- */

typedef struct SpecItem {
    char name[64];
    char type[4];     /* "s", "/", "-f", "-fs" */
    bool optional;
} SpecItem;

static int parse_spec(const char *spec, SpecItem *items, int max)
{
    int n = 0;
    const char *p = spec ? spec : "";
    while (*p && n < max) {
        const char *colon = strchr(p, ':');
        const char *comma = strchr(p, ',');
        if (!comma) {
            comma = p + strlen(p);
        }
        if (!colon || colon > comma) {
            break;   /* malformed spec: a programming error; stop here */
        }
        SpecItem *it = &items[n];
        memset(it, 0, sizeof(*it));
        snprintf(it->name, sizeof(it->name), "%.*s", (int)(colon - p), p);
        const char *t = colon + 1;
        size_t tl = comma - t;
        if (tl && t[tl - 1] == '?') {
            it->optional = true;
            tl--;
        }
        snprintf(it->type, sizeof(it->type), "%.*s", (int)MIN(tl, 3), t);
        n++;
        p = *comma ? comma + 1 : comma;
    }
    return n;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

/* A word, or a double-quoted string with escapes. NULL on error. */
static char *parse_word(const char **pp, Error **errp)
{
    const char *p = *pp;
    StrBuf sb;
    strbuf_init(&sb);
    if (*p == '"') {
        p++;
        for (;;) {
            if (!*p) {
                error_setg(errp, "unterminated string");
                strbuf_free(&sb);
                return NULL;
            }
            if (*p == '"') {
                p++;
                break;
            }
            if (*p == '\\' && p[1]) {
                p++;
                switch (*p) {
                case 'n': strbuf_append_c(&sb, '\n'); break;
                case 'r': strbuf_append_c(&sb, '\r'); break;
                case 't': strbuf_append_c(&sb, '\t'); break;
                default: strbuf_append_c(&sb, *p); break;
                }
                p++;
                continue;
            }
            strbuf_append_c(&sb, *p++);
        }
        if (*p && *p != ' ' && *p != '\t') {
            error_setg(errp, "unexpected character after closing quote");
            strbuf_free(&sb);
            return NULL;
        }
    } else {
        while (*p && *p != ' ' && *p != '\t') {
            strbuf_append_c(&sb, *p++);
        }
    }
    *pp = p;
    char *s = strbuf_steal(&sb);
    strbuf_free(&sb);
    return s;
}

static int parse_format(const char **pp, MonitorArgs *args, Error **errp)
{
    const char *p = *pp + 1;   /* after '/' */
    if (isdigit((unsigned char)*p)) {
        char *end;
        errno = 0;
        unsigned long count = strtoul(p, &end, 10);
        if (errno || count > INT32_MAX) {
            error_setg(errp, "number too large");
            return -EINVAL;
        }
        args_add(args, "count", MARG_INT)->i = (int64_t)count;
        p = end;
    }
    while (*p && *p != ' ' && *p != '\t') {
        int size = 0;
        switch (*p) {
        case 'x': case 'd': case 'u': case 'o': case 'c': case 'i': case 's': case 'a':
        case 't':
            args_add(args, "format", MARG_INT)->i = *p;
            break;
        case 'b': size = 1; break;
        case 'h': size = 2; break;
        case 'w': size = 4; break;
        case 'g': size = 8; break;
        default:
            error_setg(errp, "invalid char in format: '%c'", isprint((unsigned char)*p) ? *p : '?');
            return -EINVAL;
        }
        if (size) {
            args_add(args, "size", MARG_INT)->i = size;
        }
        p++;
    }
    *pp = p;
    return 0;
}

static int parse_size_arg(const char **pp, int64_t *out, Error **errp)
{
    const char *p = *pp;
    char *end;
    if (!isdigit((unsigned char)*p)) {
        error_setg(errp, "invalid size");
        return -EINVAL;
    }
    errno = 0;
    double v = strtod(p, &end);
    uint64_t mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = KiB; end++; break;
    case 'm': case 'M': mult = MiB; end++; break;
    case 'g': case 'G': mult = GiB; end++; break;
    case 't': case 'T': mult = TiB; end++; break;
    case 'b': case 'B': end++; break;
    default: break;
    }
    if (errno || (*end && *end != ' ' && *end != '\t') || v * mult >= 9.2e18) {
        error_setg(errp, "invalid size");
        return -EINVAL;
    }
    *out = (int64_t)(v * mult);
    *pp = end;
    return 0;
}

/* Consumes a run of flag items starting at index i; returns the index
 * after the run. */
static int parse_flags(const SpecItem *items, int n, int i, const char **pp, MonitorArgs *args,
                       Error **errp)
{
    int end = i;
    while (end < n && items[end].type[0] == '-') {
        end++;
    }
    for (;;) {
        const char *p = skip_spaces(*pp);
        if (p[0] != '-' || !isalpha((unsigned char)p[1]) || (p[2] && p[2] != ' ' && p[2] != '\t')) {
            break;
        }
        int match = -1;
        for (int k = i; k < end; k++) {
            if (items[k].type[1] == p[1]) {
                match = k;
            }
        }
        if (match < 0) {
            break;
        }
        p += 2;
        if (items[match].type[2] == 's') {
            p = skip_spaces(p);
            if (!*p) {
                error_setg(errp, "option '-%c' needs a value", items[match].type[1]);
                return -1;
            }
            char *w = parse_word(&p, errp);
            if (!w) {
                return -1;
            }
            args_add(args, items[match].name, MARG_STR)->str = w;
        } else {
            args_add(args, items[match].name, MARG_BOOL)->b = true;
        }
        *pp = p;
    }
    return end;
}

MonitorArgs *monitor_parse_args(const MonitorCommand *cmd, const char *rest, Error **errp)
{
    SpecItem items[32];
    int n = parse_spec(cmd->args, items, ARRAY_SIZE(items));
    MonitorArgs *args = XNEW(MonitorArgs);
    const char *p = rest ? rest : "";

    for (int i = 0; i < n;) {
        const SpecItem *it = &items[i];
        if (it->type[0] == '-') {
            i = parse_flags(items, n, i, &p, args, errp);
            if (i < 0) {
                goto fail;
            }
            continue;
        }
        i++;
        p = skip_spaces(p);
        char t = it->type[0];
        if (t == '/') {
            if (*p == '/' && parse_format(&p, args, errp) < 0) {
                goto fail;
            }
            continue;
        }
        if (!*p) {
            if (it->optional) {
                continue;
            }
            switch (t) {
            case 'i':
            case 'l':
                error_setg(errp, "unexpected end of expression");
                break;
            case 'F':
                error_setg(errp, "%s: filename expected", cmd->name);
                break;
            case 'B':
                error_setg(errp, "%s: block device name expected", cmd->name);
                break;
            case 'o':
                error_setg(errp, "%s: size expected", cmd->name);
                break;
            case 'b':
                error_setg(errp, "%s: 'on' or 'off' expected", cmd->name);
                break;
            default:
                error_setg(errp, "%s: string expected", cmd->name);
                break;
            }
            goto fail;
        }
        switch (t) {
        case 's':
        case 'F':
        case 'B': {
            char *w = parse_word(&p, errp);
            if (!w) {
                goto fail;
            }
            args_add(args, it->name, MARG_STR)->str = w;
            break;
        }
        case 'S': {
            size_t len = strlen(p);
            while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
                len--;
            }
            args_add(args, it->name, MARG_STR)->str = xstrndup(p, len);
            p += strlen(p);
            break;
        }
        case 'i':
        case 'l': {
            int64_t v;
            if (monitor_parse_expr(&p, &v, errp) < 0) {
                goto fail;
            }
            if (t == 'i' && (v < INT32_MIN || v > (int64_t)UINT32_MAX)) {
                error_setg(errp, "integer is for 32-bit values");
                goto fail;
            }
            args_add(args, it->name, MARG_INT)->i = v;
            break;
        }
        case 'o': {
            int64_t v;
            if (parse_size_arg(&p, &v, errp) < 0) {
                goto fail;
            }
            args_add(args, it->name, MARG_INT)->i = v;
            break;
        }
        case 'b': {
            char *w = parse_word(&p, errp);
            if (!w) {
                goto fail;
            }
            bool on = !strcmp(w, "on"), off = !strcmp(w, "off");
            free(w);
            if (!on && !off) {
                error_setg(errp, "Expected 'on' or 'off'");
                goto fail;
            }
            args_add(args, it->name, MARG_BOOL)->b = on;
            break;
        }
        default:
            error_setg(errp, "%s: bad argument type '%s' in the command table", cmd->name,
                       it->type);
            goto fail;
        }
        /* A value must end at a space or the end of the line. */
        if (*p && *p != ' ' && *p != '\t') {
            error_setg(errp, "%s: extraneous characters at the end of line", cmd->name);
            goto fail;
        }
    }
    p = skip_spaces(p);
    if (*p) {
        error_setg(errp, "%s: extraneous characters at the end of line", cmd->name);
        goto fail;
    }
    return args;
fail:
    monitor_args_free(args);
    return NULL;
}
