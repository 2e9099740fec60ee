#ifndef CNCURSES_H
#define CNCURSES_H

/* curses.h declares wget_wch, cchar_t and the other wide-char calls only under NCURSES_WIDECHAR; SwiftPM drops
   pkg-config's -D flags and a target's cSettings never reach Swift clients, so the define lives here
   (swift-linux.md 1a). */
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncurses.h>

/* Swift 6 flags every read of a C mutable global (stdscr, LINES, COLS) as unsafe, and function-like or
   NCURSES_BITS macros do not import at all; function calls are fine, so each one gets a getter. */
static inline WINDOW *nc_stdscr(void) { return stdscr; }
static inline int nc_lines(void) { return LINES; }
static inline int nc_cols(void) { return COLS; }
static inline int nc_colors(void) { return COLORS; }
static inline int nc_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t nc_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static inline attr_t nc_a_normal(void) { return A_NORMAL; }
static inline attr_t nc_a_bold(void) { return A_BOLD; }
static inline attr_t nc_a_reverse(void) { return A_REVERSE; }
static inline attr_t nc_a_underline(void) { return A_UNDERLINE; }
static inline attr_t nc_a_dim(void) { return A_DIM; }
static inline int nc_key_f(int n) { return KEY_F(n); }
static inline void nc_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
static inline mmask_t nc_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t nc_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t nc_button1_released(void) { return BUTTON1_RELEASED; }
static inline mmask_t nc_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t nc_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline mmask_t nc_wanted_mouse_events(void) {
    return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_RELEASED | BUTTON4_PRESSED | BUTTON5_PRESSED;
}
static inline int nc_setcchar1(cchar_t *cc, wchar_t ch, attr_t attrs, short pair) {
    wchar_t text[2] = { ch, 0 };
    return setcchar(cc, text, attrs, pair, NULL);
}

/* Exit signals (SIGINT, SIGTERM, SIGHUP) only record their number here; the main loop polls it each frame,
   releases our lock, calls endwin and exits 128+signal. Installed before newterm, so ncurses keeps its hands off
   them (it installs its own only where the disposition is still SIG_DFL). */
void nc_install_exit_signal_handlers(void);
/* The first exit signal caught so far, or 0. */
int nc_caught_exit_signal(void);

#endif
