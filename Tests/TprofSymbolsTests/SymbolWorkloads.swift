import Foundation

/// The programs these tests compile and profile. Each spins until the process has used the CPU seconds given as
/// its first argument, checking the clock rarely so that the clock's own system calls stay out of the profile.
enum SymbolWorkloads {
    /// Two hot functions in a 2:1 ratio of CPU time. The ratio is set by the clock, not by iteration counts: phases
    /// of 20 ms of `hot_a` and 10 ms of `hot_b` alternate, each far longer than the 1 ms between samples, so the
    /// expected share of each function is fixed and the sampling noise of two separate runs stays well under a point.
    static let twoHotFunctions = #"""
        #include <stdlib.h>
        #include <time.h>

        static volatile unsigned long sink;

        __attribute__((noinline)) unsigned long hot_a(unsigned long n) {
            unsigned long x = n;
            for (int i = 0; i < 2000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL; /* HOT_A */
            return x;
        }

        __attribute__((noinline)) unsigned long hot_b(unsigned long n) {
            unsigned long x = n;
            for (int i = 0; i < 2000; i++) x = x * 2862933555777941757UL + 3037000493UL; /* HOT_B */
            return x;
        }

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            unsigned long n = 0;
            while (cpu_seconds() < seconds) {
                double end = cpu_seconds() + 0.020;
                while (cpu_seconds() < end) for (int i = 0; i < 128; i++) sink += hot_a(n++);
                end = cpu_seconds() + 0.010;
                while (cpu_seconds() < end) for (int i = 0; i < 128; i++) sink += hot_b(n++);
            }
            return 0;
        }
        """#

    /// The hot function of `libhot.so`.
    static let library = #"""
        __attribute__((noinline)) unsigned long lib_spin(unsigned long n) {
            unsigned long x = n;
            for (int i = 0; i < 2000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            return x;
        }
        """#

    /// A program that spends its time in `lib_spin` of the library it links.
    static let libraryUser = #"""
        #include <stdlib.h>
        #include <time.h>

        unsigned long lib_spin(unsigned long n);
        static volatile unsigned long sink;

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            struct timespec ts;
            unsigned long n = 0;
            for (;;) {
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                if (ts.tv_sec + ts.tv_nsec / 1e9 >= seconds) break;
                for (int i = 0; i < 1024; i++) sink += lib_spin(n++);
            }
            return 0;
        }
        """#

    /// A C++ template method in a namespace, explicitly instantiated for long.
    static let cppTemplate = #"""
        #include <cstdlib>
        #include <ctime>

        namespace work {
        template <typename T> struct Box {
            T seed;
            T spin(T n);
        };

        template <typename T> T Box<T>::spin(T n) {
            T x = n + seed;
            for (int i = 0; i < 2000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
            return x;
        }

        template struct Box<long>;
        }

        static volatile long sink;

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
            work::Box<long> box{3};
            struct timespec ts;
            long n = 0;
            for (;;) {
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                if (ts.tv_sec + ts.tv_nsec / 1e9 >= seconds) break;
                for (int i = 0; i < 1024; i++) sink += box.spin(n++);
            }
            return 0;
        }
        """#

    /// The start of the Swift workloads: Glibc, `cpuSeconds()` (the process's CPU time) and `seconds` (the first
    /// argument, 1 by default), for a loop that runs until `cpuSeconds() >= seconds`.
    static let swiftClock = #"""
        import Glibc

        func cpuSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }

        let seconds = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 1 : 1
        """# + "\n"

    /// A Swift function that burns CPU, kept out of line; compiled with `-module-name hot`.
    static let swiftBurn = swiftClock + #"""
        @inline(never)
        func burn(_ n: Int) -> Int {
            var x = n
            for _ in 0..<2000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            return x
        }

        var sink = 0
        var n = 0
        while cpuSeconds() < seconds {
            for _ in 0..<1024 { sink &+= burn(n); n += 1 }
        }
        if sink == 42 { print(sink) }
        """#

    /// A tight loop of cheap system calls: most of the time is spent in the kernel.
    static let syscallLoop = #"""
        #include <fcntl.h>
        #include <stdlib.h>
        #include <time.h>
        #include <unistd.h>

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            int fd = open("/dev/zero", O_RDONLY);
            static char buffer[4096];
            struct timespec ts;
            if (fd < 0) return 1;
            for (;;) {
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                if (ts.tv_sec + ts.tv_nsec / 1e9 >= seconds) break;
                for (int i = 0; i < 200; i++) {
                    if (read(fd, buffer, sizeof buffer) < 0) return 1;
                    getppid();
                }
            }
            return 0;
        }
        """#

    /// Copies a spin loop (64 nops, then `jmp .`, bytes 0xeb 0xfe) into an anonymous executable page, prints the
    /// address of the jump, and runs it until SIGPROF after the given CPU seconds. With a second argument it first
    /// writes /tmp/perf-PID.map naming the page's first 0x42 bytes with that argument, as a JIT would.
    static let anonymousCode = #"""
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <sys/time.h>
        #include <unistd.h>

        static void stop(int signal) { (void)signal; _exit(0); }

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (page == MAP_FAILED) return 1;
            memset(page, 0x90, 64);
            page[64] = 0xeb;
            page[65] = 0xfe;
            if (argc > 2) {
                char path[64];
                snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
                FILE *map = fopen(path, "w");
                if (!map) return 2;
                fprintf(map, "%lx 42 %s\n", (unsigned long)page, argv[2]);
                fclose(map);
            }
            printf("pid %d spin %lx\n", (int)getpid(), (unsigned long)(page + 64));
            fflush(stdout);
            struct itimerval timer = {{0, 0}, {(long)seconds, (long)((seconds - (long)seconds) * 1e6)}};
            signal(SIGPROF, stop);
            setitimer(ITIMER_PROF, &timer, NULL);
            ((void (*)(void))page)();
            return 0;
        }
        """#

    /// The 1-based number of the first line of `source` that contains `marker`.
    static func line(of marker: String, in source: String) -> Int? {
        source.components(separatedBy: "\n").firstIndex { $0.contains(marker) }.map { $0 + 1 }
    }
}
