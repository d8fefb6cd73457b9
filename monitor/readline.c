/*
 * Line editing for the HMP console.
 *
 * Keys: printable bytes insert at the cursor; Backspace/Ctrl-H delete
 * before it, Delete/Ctrl-D at it; Left/Right/Ctrl-B/Ctrl-F move;
 * Home/End/Ctrl-A/Ctrl-E jump; Ctrl-K/Ctrl-U kill to the end/start;
 * Ctrl-W kills the word before the cursor; Up/Down/Ctrl-P/Ctrl-N walk
 * the history; Tab completes; Enter (CR, LF or CR LF) submits.
 *
 * Typing at the end of the line echoes just the byte; any other change
 * redraws the line ("\r", prompt, text, clear to end, cursor back), which
 * every VT100-style terminal understands.
 */
#include <stdio.h>

#include "readline.h"
#include "util/strbuf.h"

enum { ESC_NONE, ESC_ESC, ESC_CSI, ESC_SS3 };

#define MAX_COMPLETIONS 256

struct ReadLine {
    ReadLineOutFn *out;
    ReadLineLineFn *line_cb;
    ReadLineCompleteFn *complete_cb;
    void *opaque;
    char *prompt;

    char buf[READLINE_MAX_LINE];
    int len, pos;

    int esc_state;
    int esc_param;
    bool last_was_cr;

    char *history[READLINE_HISTORY];
    int hist_count;
    int hist_pos;            /* == hist_count: the line being typed */
    char *saved_line;        /* that line while browsing history */

    char *completions[MAX_COMPLETIONS];
    int ncompletions;
};

static void out(ReadLine *rl, const char *s, size_t len)
{
    if (len) {
        rl->out(rl->opaque, s, len);
    }
}

static void outs(ReadLine *rl, const char *s)
{
    out(rl, s, strlen(s));
}

ReadLine *readline_new(ReadLineOutFn *outfn, ReadLineLineFn *line, ReadLineCompleteFn *complete,
                       void *opaque)
{
    ReadLine *rl = XNEW(ReadLine);
    rl->out = outfn;
    rl->line_cb = line;
    rl->complete_cb = complete;
    rl->opaque = opaque;
    rl->prompt = xstrdup("");
    return rl;
}

void readline_free(ReadLine *rl)
{
    if (!rl) {
        return;
    }
    for (int i = 0; i < rl->hist_count; i++) {
        free(rl->history[i]);
    }
    for (int i = 0; i < rl->ncompletions; i++) {
        free(rl->completions[i]);
    }
    free(rl->saved_line);
    free(rl->prompt);
    free(rl);
}

void readline_set_prompt(ReadLine *rl, const char *prompt)
{
    free(rl->prompt);
    rl->prompt = xstrdup(prompt);
}

void readline_reset(ReadLine *rl)
{
    rl->len = rl->pos = 0;
    rl->esc_state = ESC_NONE;
    rl->last_was_cr = false;
    rl->hist_pos = rl->hist_count;
    free(rl->saved_line);
    rl->saved_line = NULL;
}

static void redraw(ReadLine *rl)
{
    StrBuf sb;
    strbuf_init(&sb);
    strbuf_append_c(&sb, '\r');
    strbuf_append(&sb, rl->prompt);
    strbuf_append_len(&sb, rl->buf, rl->len);
    strbuf_append(&sb, "\033[K");
    if (rl->len > rl->pos) {
        strbuf_printf(&sb, "\033[%dD", rl->len - rl->pos);
    }
    out(rl, sb.str, sb.len);
    strbuf_free(&sb);
}

void readline_show_prompt(ReadLine *rl)
{
    outs(rl, rl->prompt);
    out(rl, rl->buf, rl->len);
    if (rl->len > rl->pos) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "\033[%dD", rl->len - rl->pos);
        outs(rl, tmp);
    }
}

static void set_line(ReadLine *rl, const char *s)
{
    size_t n = strlen(s);
    if (n >= READLINE_MAX_LINE) {
        n = READLINE_MAX_LINE - 1;
    }
    memcpy(rl->buf, s, n);
    rl->len = rl->pos = (int)n;
    redraw(rl);
}

static void insert(ReadLine *rl, const char *s, int n)
{
    if (rl->len + n >= READLINE_MAX_LINE) {
        n = READLINE_MAX_LINE - 1 - rl->len;
    }
    if (n <= 0) {
        return;
    }
    bool at_end = rl->pos == rl->len;
    memmove(rl->buf + rl->pos + n, rl->buf + rl->pos, rl->len - rl->pos);
    memcpy(rl->buf + rl->pos, s, n);
    rl->len += n;
    rl->pos += n;
    if (at_end) {
        out(rl, s, n);
    } else {
        redraw(rl);
    }
}

static void delete_range(ReadLine *rl, int from, int to)
{
    if (from < 0) {
        from = 0;
    }
    if (to > rl->len) {
        to = rl->len;
    }
    if (from >= to) {
        return;
    }
    memmove(rl->buf + from, rl->buf + to, rl->len - to);
    rl->len -= to - from;
    rl->pos = from;
    redraw(rl);
}

static void move_to(ReadLine *rl, int pos)
{
    if (pos < 0) {
        pos = 0;
    }
    if (pos > rl->len) {
        pos = rl->len;
    }
    if (pos != rl->pos) {
        rl->pos = pos;
        redraw(rl);
    }
}

void readline_history_add(ReadLine *rl, const char *line)
{
    if (!*line || (rl->hist_count && !strcmp(rl->history[rl->hist_count - 1], line))) {
        rl->hist_pos = rl->hist_count;
        return;
    }
    if (rl->hist_count == READLINE_HISTORY) {
        free(rl->history[0]);
        memmove(rl->history, rl->history + 1, (READLINE_HISTORY - 1) * sizeof(char *));
        rl->hist_count--;
    }
    rl->history[rl->hist_count++] = xstrdup(line);
    rl->hist_pos = rl->hist_count;
}

int readline_history_count(const ReadLine *rl)
{
    return rl->hist_count;
}

const char *readline_history_get(const ReadLine *rl, int i)
{
    return i >= 0 && i < rl->hist_count ? rl->history[i] : NULL;
}

static void history_move(ReadLine *rl, int dir)
{
    int np = rl->hist_pos + dir;
    if (np < 0 || np > rl->hist_count) {
        return;
    }
    if (rl->hist_pos == rl->hist_count) {
        free(rl->saved_line);
        rl->saved_line = xstrndup(rl->buf, rl->len);
    }
    rl->hist_pos = np;
    set_line(rl, np == rl->hist_count ? (rl->saved_line ? rl->saved_line : "")
                                      : rl->history[np]);
}

static void submit(ReadLine *rl)
{
    outs(rl, "\r\n");
    char *line = xstrndup(rl->buf, rl->len);
    rl->len = rl->pos = 0;
    rl->hist_pos = rl->hist_count;
    free(rl->saved_line);
    rl->saved_line = NULL;
    rl->line_cb(rl->opaque, line);
    free(line);
}

void readline_add_completion(ReadLine *rl, const char *candidate)
{
    if (rl->ncompletions >= MAX_COMPLETIONS) {
        return;
    }
    for (int i = 0; i < rl->ncompletions; i++) {
        if (!strcmp(rl->completions[i], candidate)) {
            return;
        }
    }
    rl->completions[rl->ncompletions++] = xstrdup(candidate);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void complete(ReadLine *rl)
{
    if (!rl->complete_cb) {
        return;
    }
    char *before = xstrndup(rl->buf, rl->pos);
    rl->ncompletions = 0;
    rl->complete_cb(rl->opaque, rl, before);
    /* The word being completed starts after the last space. */
    const char *word = strrchr(before, ' ');
    word = word ? word + 1 : before;
    size_t wlen = strlen(word);
    int n = rl->ncompletions;
    if (n == 1) {
        const char *c = rl->completions[0];
        if (strlen(c) >= wlen) {
            insert(rl, c + wlen, (int)(strlen(c) - wlen));
            insert(rl, " ", 1);
        }
    } else if (n > 1) {
        /* Extend to the longest common prefix; list if that is all. */
        size_t common = strlen(rl->completions[0]);
        for (int i = 1; i < n; i++) {
            size_t j = 0;
            while (j < common && rl->completions[i][j] == rl->completions[0][j]) {
                j++;
            }
            common = j;
        }
        if (common > wlen) {
            insert(rl, rl->completions[0] + wlen, (int)(common - wlen));
        } else {
            qsort(rl->completions, n, sizeof(char *), cmp_str);
            size_t width = 0;
            for (int i = 0; i < n; i++) {
                width = MAX(width, strlen(rl->completions[i]));
            }
            width += 2;
            int per_line = (int)MAX(1, 80 / width);
            StrBuf sb;
            strbuf_init(&sb);
            strbuf_append(&sb, "\r\n");
            for (int i = 0; i < n; i++) {
                bool last_in_row = (i + 1) % per_line == 0 || i == n - 1;
                if (last_in_row) {
                    strbuf_printf(&sb, "%s\r\n", rl->completions[i]);
                } else {
                    strbuf_printf(&sb, "%-*s", (int)width, rl->completions[i]);
                }
            }
            out(rl, sb.str, sb.len);
            strbuf_free(&sb);
            readline_show_prompt(rl);
        }
    }
    for (int i = 0; i < rl->ncompletions; i++) {
        free(rl->completions[i]);
    }
    rl->ncompletions = 0;
    free(before);
}

static void word_rubout(ReadLine *rl)
{
    int p = rl->pos;
    while (p > 0 && rl->buf[p - 1] == ' ') {
        p--;
    }
    while (p > 0 && rl->buf[p - 1] != ' ') {
        p--;
    }
    delete_range(rl, p, rl->pos);
}

static void handle_csi(ReadLine *rl, char final)
{
    switch (final) {
    case 'A': history_move(rl, -1); break;
    case 'B': history_move(rl, +1); break;
    case 'C': move_to(rl, rl->pos + 1); break;
    case 'D': move_to(rl, rl->pos - 1); break;
    case 'H': move_to(rl, 0); break;
    case 'F': move_to(rl, rl->len); break;
    case '~':
        switch (rl->esc_param) {
        case 1: case 7: move_to(rl, 0); break;
        case 4: case 8: move_to(rl, rl->len); break;
        case 3: delete_range(rl, rl->pos, rl->pos + 1); break;
        default: break;
        }
        break;
    default:
        break;
    }
}

static void feed_byte(ReadLine *rl, uint8_t c)
{
    switch (rl->esc_state) {
    case ESC_ESC:
        if (c == '[') {
            rl->esc_state = ESC_CSI;
            rl->esc_param = 0;
        } else if (c == 'O') {
            rl->esc_state = ESC_SS3;
        } else {
            rl->esc_state = ESC_NONE;
        }
        return;
    case ESC_CSI:
        if (c >= '0' && c <= '9') {
            if (rl->esc_param < 1000) {
                rl->esc_param = rl->esc_param * 10 + (c - '0');
            }
            return;
        }
        if (c == ';') {
            return;
        }
        rl->esc_state = ESC_NONE;
        handle_csi(rl, (char)c);
        return;
    case ESC_SS3:
        rl->esc_state = ESC_NONE;
        rl->esc_param = 0;
        handle_csi(rl, (char)c);
        return;
    default:
        break;
    }

    bool was_cr = rl->last_was_cr;
    rl->last_was_cr = c == '\r';
    switch (c) {
    case '\r':
        submit(rl);
        break;
    case '\n':
        if (!was_cr) {
            submit(rl);
        }
        break;
    case 27:
        rl->esc_state = ESC_ESC;
        break;
    case 1: move_to(rl, 0); break;                       /* Ctrl-A */
    case 2: move_to(rl, rl->pos - 1); break;             /* Ctrl-B */
    case 4: delete_range(rl, rl->pos, rl->pos + 1); break; /* Ctrl-D */
    case 5: move_to(rl, rl->len); break;                 /* Ctrl-E */
    case 6: move_to(rl, rl->pos + 1); break;             /* Ctrl-F */
    case 8:
    case 127:
        if (rl->pos > 0) {
            if (rl->pos == rl->len) {
                rl->pos--;
                rl->len--;
                outs(rl, "\b \b");
            } else {
                delete_range(rl, rl->pos - 1, rl->pos);
            }
        }
        break;
    case 9: complete(rl); break;                         /* Tab */
    case 11: delete_range(rl, rl->pos, rl->len); break;  /* Ctrl-K */
    case 14: history_move(rl, +1); break;                /* Ctrl-N */
    case 16: history_move(rl, -1); break;                /* Ctrl-P */
    case 21: delete_range(rl, 0, rl->pos); break;        /* Ctrl-U */
    case 23: word_rubout(rl); break;                     /* Ctrl-W */
    default:
        if (c >= 32) {
            char ch = (char)c;
            insert(rl, &ch, 1);
        }
        break;
    }
}

void readline_feed(ReadLine *rl, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        feed_byte(rl, buf[i]);
    }
}
