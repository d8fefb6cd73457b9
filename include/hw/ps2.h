/*
 * PS/2 keyboard and mouse: the devices at the far end of the 8042's two
 * serial ports. The controller (hw/i8042.c) writes host bytes to them
 * and pulls their output bytes; each device calls its 'update' callback
 * when it has queued bytes, so the controller can fill its buffer.
 *
 * Key codes for ps2_keyboard_event are scancode set 2 make codes
 * (0x01-0x84); extended keys carry the E0 prefix in the high byte
 * (PS2_KEY_EXT(0x75) is Up). The keyboard produces set 2 or set 1 as the
 * host selects; the 8042's translation turns set 2 into set 1 when its
 * command byte asks for it, as on real PCs. Scancode set 3 is refused.
 */
#ifndef HW_PS2_H
#define HW_PS2_H

#include "hw/irq.h"
#include "migration/vmstate.h"

#define PS2_KEY_EXT(code) (0xe000 | (code))
/* Keys with their own sequences. */
#define PS2_KEY_PRINT PS2_KEY_EXT(0x7c)   /* E0 12 E0 7C / E0 F0 7C E0 F0 12 */
#define PS2_KEY_PAUSE 0x10000             /* E1 14 77 E1 F0 14 F0 77, make only */

/* Mouse buttons for ps2_mouse_event. */
#define PS2_MOUSE_LEFT   0x01
#define PS2_MOUSE_RIGHT  0x02
#define PS2_MOUSE_MIDDLE 0x04
#define PS2_MOUSE_BTN4   0x08
#define PS2_MOUSE_BTN5   0x10

typedef struct PS2Kbd PS2Kbd;
typedef struct PS2Mouse PS2Mouse;

/* Called when the device has output for the host. */
typedef void PS2UpdateFn(void *opaque);

PS2Kbd *ps2_kbd_new(PS2UpdateFn *update, void *opaque);
void ps2_kbd_free(PS2Kbd *k);
/* Power-on state: scanning, set 2, LEDs off, queue empty. */
void ps2_kbd_reset(PS2Kbd *k);
/* A byte from the host (a command or a command's argument). */
void ps2_kbd_write(PS2Kbd *k, uint8_t byte);
bool ps2_kbd_has_data(const PS2Kbd *k);
/* Takes the next output byte (0 if there is none). */
uint8_t ps2_kbd_read(PS2Kbd *k);
/* A key went down or up (see above for codes). Dropped while scanning is
 * disabled or the queue is full; unknown codes are ignored. */
void ps2_keyboard_event(PS2Kbd *k, int keycode, bool down);
/* LED state set by the host: bit 0 scroll, 1 num, 2 caps lock. */
uint8_t ps2_kbd_leds(const PS2Kbd *k);
/* Set 1 scancode (0xE0xx for extended) to the set 2 key code used
 * above, for UIs whose key maps are in XT codes; -1 if unknown. */
int ps2_keycode_from_set1(int set1);
/* The 8042 translation of one set-2 byte (F0 handling is the caller's). */
uint8_t ps2_translate_set2_to_set1(uint8_t code);

PS2Mouse *ps2_mouse_new(PS2UpdateFn *update, void *opaque);
void ps2_mouse_free(PS2Mouse *m);
void ps2_mouse_reset(PS2Mouse *m);
void ps2_mouse_write(PS2Mouse *m, uint8_t byte);
bool ps2_mouse_has_data(const PS2Mouse *m);
uint8_t ps2_mouse_read(PS2Mouse *m);
/* Relative motion (dx right, dy down, as on screen; dz wheel, positive
 * towards the user) and the buttons now held (PS2_MOUSE_*). */
void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, unsigned buttons);

/* Sections "ps2kbd" and "ps2mouse". */
extern const VMStateDescription vmstate_ps2_keyboard;
extern const VMStateDescription vmstate_ps2_mouse;

#endif
