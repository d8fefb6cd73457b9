/*
 * Line editing for the HMP console (private to monitor/): a line buffer
 * with cursor, history and tab completion, driven byte by byte, writing
 * the terminal updates through a callback.
 */
#ifndef MONITOR_READLINE_H
#define MONITOR_READLINE_H

#include "util/osdep.h"

#define READLINE_MAX_LINE 4096
#define READLINE_HISTORY 64

typedef struct ReadLine ReadLine;
typedef void ReadLineOutFn(void *opaque, const char *buf, size_t len);
typedef void ReadLineLineFn(void *opaque, const char *line);
/* Offers candidates for the word ending at the cursor (readline_add_completion). */
typedef void ReadLineCompleteFn(void *opaque, ReadLine *rl, const char *before_cursor);

ReadLine *readline_new(ReadLineOutFn *out, ReadLineLineFn *line, ReadLineCompleteFn *complete,
                       void *opaque);
void readline_free(ReadLine *rl);
void readline_set_prompt(ReadLine *rl, const char *prompt);
/* Prints the prompt and the line being edited. */
void readline_show_prompt(ReadLine *rl);
/* Forgets the line being edited (a new client). */
void readline_reset(ReadLine *rl);
void readline_feed(ReadLine *rl, const uint8_t *buf, size_t len);
void readline_add_completion(ReadLine *rl, const char *candidate);
int readline_history_count(const ReadLine *rl);
const char *readline_history_get(const ReadLine *rl, int i);
void readline_history_add(ReadLine *rl, const char *line);

#endif
