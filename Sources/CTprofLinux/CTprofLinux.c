#define _GNU_SOURCE
#include "CTprofLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const unsigned long CTprofLinux_PERF_EVENT_IOC_ENABLE = PERF_EVENT_IOC_ENABLE;
const unsigned long CTprofLinux_PERF_EVENT_IOC_DISABLE = PERF_EVENT_IOC_DISABLE;
const unsigned long CTprofLinux_PERF_EVENT_IOC_RESET = PERF_EVENT_IOC_RESET;
const unsigned long CTprofLinux_PERF_EVENT_IOC_SET_OUTPUT = PERF_EVENT_IOC_SET_OUTPUT;

int CTprofLinux_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
                                unsigned long flags) {
    return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

int CTprofLinux_ioctl_int(int fd, unsigned long request, unsigned long arg) {
    return ioctl(fd, request, arg);
}

int CTprofLinux_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

uint64_t CTprofLinux_ring_load_head(const struct perf_event_mmap_page *page) {
    return __atomic_load_n(&page->data_head, __ATOMIC_ACQUIRE);
}

void CTprofLinux_ring_store_tail(struct perf_event_mmap_page *page, uint64_t tail) {
    __atomic_store_n(&page->data_tail, tail, __ATOMIC_RELEASE);
}

/* The signals a user sends to stop a recording; they are read from a signalfd, so none of them (SIGQUIT
   included) ever reaches the Swift runtime's crash handler. */
static const int stop_signals[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
static void write_errno_and_exit(int fd, int err) {
    ssize_t ignored = write(fd, &err, sizeof err);
    (void)ignored;
    _exit(127);
}

int CTprofLinux_spawn_held(char *const argv[], CTprofLinux_held_child *child) {
    int go[2], err[2];
    if (pipe2(go, O_CLOEXEC) != 0) return -1;
    if (pipe2(err, O_CLOEXEC) != 0) {
        int saved = errno;
        close(go[0]); close(go[1]);
        errno = saved;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(go[0]); close(go[1]); close(err[0]); close(err[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here to exec. */
        close(go[1]);
        close(err[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signal(stop_signals[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (child->detached) {
            int null_fd = open("/dev/null", O_RDWR);
            if (null_fd < 0) write_errno_and_exit(err[1], errno);
            for (int fd = 0; fd < 3; fd++) dup2(null_fd, fd);
            if (null_fd > 2) close(null_fd);
        }
        char byte;
        ssize_t n;
        do { n = read(go[0], &byte, 1); } while (n < 0 && errno == EINTR);
        if (n != 1) _exit(127);
        close(go[0]);
        execvp(argv[0], argv);
        write_errno_and_exit(err[1], errno);
    }
    close(go[0]);
    close(err[1]);
    child->pid = pid;
    child->go_fd = go[1];
    child->error_fd = err[0];
    return 0;
}

static void stop_signal_set(sigset_t *set) {
    sigemptyset(set);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) sigaddset(set, stop_signals[i]);
    sigaddset(set, SIGCHLD);
}
int CTprofLinux_block_stop_signals(void) {
    sigset_t set;
    stop_signal_set(&set);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    /* A closed stderr or stdout then fails a write with EPIPE instead of killing the recorder mid-run. */
    return signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0;
}
int CTprofLinux_block_signals_to_fd(int with_resize) {
    if (CTprofLinux_block_stop_signals() != 0) return -1;
    if (with_resize && CTprofLinux_block_resize_signal() != 0) return -1;
    sigset_t set;
    stop_signal_set(&set);
    if (with_resize) sigaddset(&set, SIGWINCH);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int CTprofLinux_block_resize_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    return pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ? -1 : 0;
}

int CTprofLinux_read_signalfd(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof info); } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    if (n != sizeof info) return 0;
    return (int)info.ssi_signo;
}

int CTprofLinux_wait_status_exited(int status) { return WIFEXITED(status); }
int CTprofLinux_wait_status_exit_code(int status) { return WEXITSTATUS(status); }
int CTprofLinux_wait_status_signaled(int status) { return WIFSIGNALED(status); }
int CTprofLinux_wait_status_term_signal(int status) { return WTERMSIG(status); }

int CTprofLinux_terminal_rows(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    return size.ws_row;
}

int CTprofLinux_terminal_columns(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    return size.ws_col;
}

int CTprofLinux_release_free_heap(void) {
    return malloc_trim(0);
}
