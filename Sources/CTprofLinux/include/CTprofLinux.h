#ifndef CTPROFLINUX_H
#define CTPROFLINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/perf_event.h>

/// perf_event_open(2); returns the fd or -1 with errno set.
int CTprofLinux_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
                                unsigned long flags);

/// ioctl request numbers, which are macros Swift cannot import.
extern const unsigned long CTprofLinux_PERF_EVENT_IOC_ENABLE;
extern const unsigned long CTprofLinux_PERF_EVENT_IOC_DISABLE;
extern const unsigned long CTprofLinux_PERF_EVENT_IOC_RESET;
extern const unsigned long CTprofLinux_PERF_EVENT_IOC_SET_OUTPUT;

/// ioctl(fd, request, arg) with an integer argument; -1 with errno on failure.
int CTprofLinux_ioctl_int(int fd, unsigned long request, unsigned long arg);

/// renameat2(2) with RENAME_NOREPLACE (glibc declares it only under _GNU_SOURCE): fails with EEXIST instead of
/// replacing an existing `to`. Returns 0, or -1 with errno set.
int CTprofLinux_rename_noreplace(const char *from, const char *to);

/// Loads `data_head` of a mapped perf ring with acquire ordering.
uint64_t CTprofLinux_ring_load_head(const struct perf_event_mmap_page *page);
/// Stores `data_tail` of a mapped perf ring with release ordering.
void CTprofLinux_ring_store_tail(struct perf_event_mmap_page *page, uint64_t tail);

/// A command forked and held before exec, so events can be opened on its pid first.
typedef struct {
    pid_t pid;
    int go_fd;     /* write one byte to let the child exec; close to make it exit */
    int error_fd;  /* reads the child's exec errno, or EOF once exec succeeded */
    int detached;  /* set by the caller: the child's stdin, stdout and stderr become /dev/null */
} CTprofLinux_held_child;

/// Forks `argv[0]` (searched in PATH); the child dies with the parent (PR_SET_PDEATHSIG SIGKILL),
/// restores the default signal mask and the default dispositions of the stop signals and SIGPIPE, and waits on
/// `go_fd` before it execs. With `child->detached` set, its stdin, stdout and stderr are /dev/null.
/// Returns 0, or -1 with errno set.
int CTprofLinux_spawn_held(char *const argv[], CTprofLinux_held_child *child);

/// Blocks the stop signals (SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2) and SIGCHLD in the calling
/// thread (and threads it creates later) and ignores SIGPIPE; returns 0, or -1 with errno.
int CTprofLinux_block_stop_signals(void);
/// Blocks the stop signals and SIGCHLD as CTprofLinux_block_stop_signals does and returns a signalfd reading
/// them (and SIGWINCH when `with_resize`), or -1 with errno.
int CTprofLinux_block_signals_to_fd(int with_resize);
/// Blocks SIGWINCH in the calling thread (and threads it creates later), for a signalfd to read; returns 0, or -1.
int CTprofLinux_block_resize_signal(void);
/// The height in rows of the terminal on `fd` (TIOCGWINSZ), 0 when it does not say, -1 with errno.
int CTprofLinux_terminal_rows(int fd);

/// Reads one pending signal from a signalfd: the signal number, 0 if none, -1 with errno.
int CTprofLinux_read_signalfd(int fd);

/// Decoders for waitpid(2) status words (macros in C).
int CTprofLinux_wait_status_exited(int status);
int CTprofLinux_wait_status_exit_code(int status);
int CTprofLinux_wait_status_signaled(int status);
int CTprofLinux_wait_status_term_signal(int status);

/// The width in columns of the terminal on `fd` (TIOCGWINSZ), 0 when it does not say, -1 with errno.
int CTprofLinux_terminal_columns(int fd);
/// Gives the heap's free memory back to the system (malloc_trim(0)); 1 when some was released.
int CTprofLinux_release_free_heap(void);
#endif
