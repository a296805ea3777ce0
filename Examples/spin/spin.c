/* A CPU-bound workload with two hot functions in a known ratio (about 2:1), for recording and comparing with perf.
 * Usage: spin [seconds]   (default 3.5 seconds of CPU time)
 * Build: gcc -O1 -fno-omit-frame-pointer -fno-inline -g -o spin spin.c
 */
#include <stdio.h>
#include <stdlib.h>
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

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3.5;
    unsigned long n = 0;
    while (cpu_seconds() < seconds) {
        for (int i = 0; i < 100; i++) {
            sink += hot_a(n++);
            sink += hot_b(n++);
        }
    }
    printf("spin: %.2f s of CPU time, %lu iterations\n", cpu_seconds(), n);
    return 0;
}
