/*
 * Option parsing shared by minipc and minipc-img: sizes with suffixes
 * and QEMU-style "key=value,key=value" lists (a literal comma inside a
 * value is written ",,").
 */
#ifndef UTIL_OPTION_H
#define UTIL_OPTION_H

#include "util/osdep.h"
#include "util/error.h"

/* Parses "512", "4k", "1.5G", "64M"... Suffixes k/K M G T P E are binary
 * multiples; 'b'/'B' means bytes. A number without suffix is multiplied
 * by default_unit (1 for qemu-img sizes, MiB for -m). Fractions are
 * allowed with a suffix. Fails on garbage, negatives and overflow. */
int parse_size(const char *str, uint64_t default_unit, uint64_t *out, Error **errp);
/* Strict unsigned integer parse (decimal, or 0x hex); whole string. */
int parse_uint64(const char *str, uint64_t *out, Error **errp);
int parse_int64(const char *str, int64_t *out, Error **errp);
/* on/off/yes/no/true/false */
int parse_bool(const char *str, bool *out, Error **errp);

typedef struct OptItem {
    char *key;
    char *value;
    bool used;
} OptItem;

typedef struct OptList {
    OptItem *items;
    size_t n;
} OptList;

/* Parses "a=1,b=x,,y,flag". If implied_key is not NULL, a first item
 * without '=' is taken as implied_key=item (as "-drive file" or
 * "-netdev user"). A later item without '=' is key=on. */
OptList *optlist_parse(const char *str, const char *implied_key, Error **errp);
void optlist_free(OptList *l);
/* Last value given for key, or NULL; marks it used. */
const char *optlist_get(OptList *l, const char *key);
int optlist_get_bool(OptList *l, const char *key, bool def, bool *out, Error **errp);
int optlist_get_size(OptList *l, const char *key, uint64_t def, uint64_t *out, Error **errp);
int optlist_get_uint(OptList *l, const char *key, uint64_t def, uint64_t *out, Error **errp);
/* Errors naming the first key not read with optlist_get*(). 'what' is
 * used in the message: "Invalid parameter 'x' for -drive". */
int optlist_check_all_used(OptList *l, const char *what, Error **errp);

#endif
