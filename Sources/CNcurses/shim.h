#include <ncursesw/curses.h>

/* What Swift cannot import from curses.h: attributes are macros. */
static inline int CNcurses_reverse_on(void) { return wattron(stdscr, A_REVERSE); }
static inline int CNcurses_reverse_off(void) { return wattroff(stdscr, A_REVERSE); }
