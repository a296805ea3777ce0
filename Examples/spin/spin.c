/* A CPU-bound workload with two hot functions in a known ratio (about 2:1), for recording and comparing with perf.
 * Usage: spin [seconds]        spin until the process has used SECONDS of CPU time (default 3.5)
 *        spin -n ITERATIONS    fixed work: ITERATIONS calls of hot_a and of hot_b, however long they take
 * Prints its own wall and CPU time, and the CLOCK_MONOTONIC time at which it finished (the benchmarks compare it
 * with when the profiler that ran it exited).
 * Build: gcc -O1 -fno-omit-frame-pointer -fno-inline -g -o spin spin.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long hot_a(unsigned long n) {
    unsigned long x = n;
    for (int i = 0; i < 2000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

__attribute__((noinline)) static unsigned long hot_b(unsigned long n) {
    unsigned long x = n;
    for (int i = 0; i < 1000; i++) x = x * 2862933555777941757UL + 3037000493UL;
    return x;
}

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

static void usage(void) {
    fprintf(stderr, "usage: spin [seconds] | spin -n ITERATIONS\n");
    exit(2);
}

int main(int argc, char **argv) {
    double seconds = 3.5;
    unsigned long iterations = 0; /* 0: run for `seconds` of CPU time */
    if (argc > 1 && strcmp(argv[1], "-n") == 0) {
        if (argc != 3) usage();
        char *end;
        iterations = strtoul(argv[2], &end, 10);
        if (*end != '\0' || iterations == 0) usage();
    } else if (argc > 1) {
        seconds = atof(argv[1]);
    }
    double wall_start = clock_seconds(CLOCK_MONOTONIC);
    unsigned long n = 0;
    if (iterations > 0) {
        for (unsigned long i = 0; i < iterations; i++) {
            sink += hot_a(n++);
            sink += hot_b(n++);
        }
    } else {
        while (cpu_seconds() < seconds) {
            for (int i = 0; i < 100; i++) {
                sink += hot_a(n++);
                sink += hot_b(n++);
            }
        }
    }
    double wall_end = clock_seconds(CLOCK_MONOTONIC);
    printf("spin: %.2f s of CPU time, %lu iterations\n", cpu_seconds(), n / 2);
    printf("spin: wall %.6f s, cpu %.6f s, ended at monotonic %.6f\n", wall_end - wall_start, cpu_seconds(),
           wall_end);
    return 0;
}
