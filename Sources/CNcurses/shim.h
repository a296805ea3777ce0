#include <ncursesw/curses.h>

/* What Swift cannot import from curses.h: attributes are macros. */
static inline int CNcurses_reverse_on(void) { return wattron(stdscr, A_REVERSE); }
static inline int CNcurses_reverse_off(void) { return wattroff(stdscr, A_REVERSE); }
#include <ncursesw/term.h>

/* A string capability of the terminal setupterm chose, NULL when it has none (tigetstr's -1 included). */
static inline const char *CNcurses_capability(const char *name) {
    const char *value = tigetstr(name);
    return value == (const char *)-1 ? NULL : value;
}

/* The sequence setting the foreground to `colour` (setaf is parameterized, and tiparm variadic). */
static inline const char *CNcurses_foreground(int colour) {
    const char *setaf = CNcurses_capability("setaf");
    return setaf == NULL ? NULL : tiparm(setaf, colour);
}
