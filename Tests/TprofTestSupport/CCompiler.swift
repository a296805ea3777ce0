import Foundation

/// Writes `source` to `name.c` in `directory`, compiles it with gcc (`-O1 -g -fno-omit-frame-pointer` and
/// `flags`) and returns the executable's path.
public func compileC(source: String, name: String, flags: [String] = [], in directory: TemporaryDirectory) throws
    -> String {
    let sourcePath = directory.file(name + ".c")
    let executable = directory.file(name)
    do {
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
    } catch {
        throw TestSupportError("cannot write \(sourcePath): \(error)")
    }
    let arguments = ["-O1", "-g", "-fno-omit-frame-pointer"] + flags + ["-o", executable, sourcePath]
    let result = try ChildProcess.run("/usr/bin/gcc", arguments, timeout: 120)
    guard result.status == 0, result.signal == nil else {
        throw TestSupportError("gcc failed for \(sourcePath)\n\(result.summary)")
    }
    return executable
}

/// Workloads the tests compile and profile.
public enum Workload {
    /// A CPU-bound C program: `NAME SECONDS` spins until the process has used SECONDS of CPU time, then prints
    /// `NAME: spun SECONDS s` (the argument as given) and exits 0. Two hot functions, as Examples/spin/spin.c.
    public static let spinSource = #"""
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

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        int main(int argc, char **argv) {
            const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            unsigned long n = 0;
            while (cpu_seconds() < seconds) {
                for (int i = 0; i < 100; i++) {
                    sink += hot_a(n++);
                    sink += hot_b(n++);
                }
            }
            printf("%s: spun %s s\n", name, argc > 1 ? argv[1] : "1.0");
            return 0;
        }
        """#
}
