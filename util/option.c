/* Sizes, numbers, booleans and key=value option lists. */
#include <ctype.h>
#include <math.h>

#include "util/option.h"
#include "util/strbuf.h"

int parse_uint64(const char *str, uint64_t *out, Error **errp)
{
    char *end;
    if (!str || !*str || isspace((unsigned char)*str) || *str == '-' || *str == '+') {
        error_setg(errp, "'%s' is not a valid unsigned number", str ? str : "");
        return -EINVAL;
    }
    errno = 0;
    unsigned long long v = strtoull(str, &end, 0);
    if (errno == ERANGE) {
        error_setg(errp, "Number '%s' is too large", str);
        return -ERANGE;
    }
    if (*end) {
        error_setg(errp, "'%s' is not a valid unsigned number", str);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int parse_int64(const char *str, int64_t *out, Error **errp)
{
    char *end;
    if (!str || !*str || isspace((unsigned char)*str)) {
        error_setg(errp, "'%s' is not a valid number", str ? str : "");
        return -EINVAL;
    }
    errno = 0;
    long long v = strtoll(str, &end, 0);
    if (errno == ERANGE) {
        error_setg(errp, "Number '%s' is out of range", str);
        return -ERANGE;
    }
    if (*end) {
        error_setg(errp, "'%s' is not a valid number", str);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int parse_bool(const char *str, bool *out, Error **errp)
{
    if (!strcmp(str, "on") || !strcmp(str, "yes") || !strcmp(str, "true")) {
        *out = true;
        return 0;
    }
    if (!strcmp(str, "off") || !strcmp(str, "no") || !strcmp(str, "false")) {
        *out = false;
        return 0;
    }
    error_setg(errp, "'%s' is not a valid boolean (use on or off)", str);
    return -EINVAL;
}

static int suffix_shift(char c)
{
    switch (c) {
    case 'b': case 'B': return 0;
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    case 'p': case 'P': return 50;
    case 'e': case 'E': return 60;
    default: return -1;
    }
}

int parse_size(const char *str, uint64_t default_unit, uint64_t *out, Error **errp)
{
    const char *p = str;
    if (!p || !isdigit((unsigned char)*p)) {
        goto bad;
    }
    /* Integer part exactly (sizes above 2^53 must not lose bits). */
    errno = 0;
    char *end;
    unsigned long long ip = strtoull(p, &end, 10);
    if (errno == ERANGE) {
        goto too_big;
    }
    double frac = 0;
    bool has_frac = false;
    if (*end == '.') {
        char *fend;
        frac = strtod(end, &fend);
        if (fend == end + 1) {
            goto bad;
        }
        has_frac = true;
        end = fend;
    }
    uint64_t unit = default_unit;
    if (*end) {
        int shift = suffix_shift(*end);
        if (shift < 0 || end[1]) {
            goto bad;
        }
        unit = 1ULL << shift;
    } else if (has_frac && default_unit == 1) {
        goto bad; /* "1.5" bytes makes no sense */
    }
    if (ip > UINT64_MAX / unit) {
        goto too_big;
    }
    uint64_t val = ip * unit;
    if (has_frac) {
        double extra = floor(frac * (double)unit);
        if (extra >= 18446744073709551616.0 || val > UINT64_MAX - (uint64_t)extra) {
            goto too_big;
        }
        val += (uint64_t)extra;
    }
    *out = val;
    return 0;
too_big:
    error_setg(errp, "Size '%s' is too large", str);
    return -ERANGE;
bad:
    error_setg(errp, "Invalid size '%s' (expected a number with an optional k, M, G, T, P or E suffix)",
               str ? str : "");
    return -EINVAL;
}

/* Reads one item up to an unescaped ',' into a fresh string; ",," is a
 * literal comma. Returns the position after the separator. */
static const char *read_item(const char *p, char **item)
{
    StrBuf sb;
    strbuf_init(&sb);
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                strbuf_append_c(&sb, ',');
                p += 2;
                continue;
            }
            p++;
            break;
        }
        strbuf_append_c(&sb, *p++);
    }
    *item = strbuf_steal(&sb);
    strbuf_free(&sb);
    return p;
}

OptList *optlist_parse(const char *str, const char *implied_key, Error **errp)
{
    OptList *l = XNEW(OptList);
    const char *p = str;
    bool first = true;
    while (*p) {
        char *item;
        p = read_item(p, &item);
        if (!*item) {
            free(item);
            first = false;
            continue;
        }
        char *eq = strchr(item, '=');
        char *key, *value;
        if (eq) {
            *eq = 0;
            key = xstrdup(item);
            value = xstrdup(eq + 1);
            if (!*key) {
                error_setg(errp, "Invalid option '=%s': missing key", value);
                free(key);
                free(value);
                free(item);
                optlist_free(l);
                return NULL;
            }
        } else if (first && implied_key) {
            key = xstrdup(implied_key);
            value = xstrdup(item);
        } else {
            key = xstrdup(item);
            value = xstrdup("on");
        }
        free(item);
        l->items = xrealloc(l->items, (l->n + 1) * sizeof(OptItem));
        l->items[l->n++] = (OptItem){ .key = key, .value = value };
        first = false;
    }
    return l;
}

void optlist_free(OptList *l)
{
    if (!l) {
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    free(l);
}

const char *optlist_get(OptList *l, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->items[i].key, key)) {
            l->items[i].used = true;
            v = l->items[i].value;
        }
    }
    return v;
}

int optlist_get_bool(OptList *l, const char *key, bool def, bool *out, Error **errp)
{
    const char *v = optlist_get(l, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (parse_bool(v, out, NULL) < 0) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off', not '%s'", key, v);
        return -EINVAL;
    }
    return 0;
}

int optlist_get_size(OptList *l, const char *key, uint64_t def, uint64_t *out, Error **errp)
{
    const char *v = optlist_get(l, key);
    if (!v) {
        *out = def;
        return 0;
    }
    int ret = parse_size(v, 1, out, errp);
    if (ret < 0) {
        error_prepend(errp, "Parameter '%s': ", key);
    }
    return ret;
}

int optlist_get_uint(OptList *l, const char *key, uint64_t def, uint64_t *out, Error **errp)
{
    const char *v = optlist_get(l, key);
    if (!v) {
        *out = def;
        return 0;
    }
    int ret = parse_uint64(v, out, errp);
    if (ret < 0) {
        error_prepend(errp, "Parameter '%s': ", key);
    }
    return ret;
}

int optlist_check_all_used(OptList *l, const char *what, Error **errp)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!l->items[i].used) {
            error_setg(errp, "Invalid parameter '%s' for %s", l->items[i].key, what);
            return -EINVAL;
        }
    }
    return 0;
}
