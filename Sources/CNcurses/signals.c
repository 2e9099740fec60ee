#include "CNcurses.h"
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught_signal = 0;

static void on_exit_signal(int sig) {
    if (caught_signal == 0) caught_signal = sig;
}

void nc_install_exit_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_exit_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking read returns EINTR and the loop sees the flag at once. */
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int nc_caught_exit_signal(void) { return caught_signal; }
