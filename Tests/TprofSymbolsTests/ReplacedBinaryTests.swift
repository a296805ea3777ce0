import Foundation
import TprofTestSupport
import XCTest

/// The profiled program owns its executable: replaced before the recording finishes by a corrupted copy or by a
/// FIFO, the finishing step (symbols, DWARF unwinding) still completes, with unresolved names at worst.
final class ReplacedBinaryTests: XCTestCase {
    /// Spins for 0.3 s of CPU, then replaces its own executable: `corrupt` writes a copy whose PT_LOAD segments after
    /// the first (the code among them) claim UINT64_MAX bytes and renames it into place; `fifo` puts a FIFO there.
    static let source = #"""
        #include <elf.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/stat.h>
        #include <time.h>
        #include <unistd.h>

        static volatile unsigned long sink;

        __attribute__((noinline)) static unsigned long hot(unsigned long n) {
            unsigned long x = n;
            for (int i = 0; i < 2000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            return x;
        }

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        int main(int argc, char **argv) {
            unsigned long n = 0;
            while (cpu_seconds() < 0.3) sink += hot(n++);
            char self[4096], temporary[4200];
            ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
            if (length <= 0 || argc < 2) return 2;
            self[length] = 0;
            if (strcmp(argv[1], "fifo") == 0) return unlink(self) != 0 || mkfifo(self, 0600) != 0;
            FILE *in = fopen(self, "rb");
            if (!in) return 3;
            fseek(in, 0, SEEK_END);
            long size = ftell(in);
            rewind(in);
            unsigned char *bytes = malloc(size);
            if (!bytes || fread(bytes, 1, size, in) != (size_t)size) return 4;
            fclose(in);
            Elf64_Ehdr *header = (Elf64_Ehdr *)bytes;
            Elf64_Phdr *segments = (Elf64_Phdr *)(bytes + header->e_phoff);
            for (int i = 0; i < header->e_phnum; i++)
                if (segments[i].p_type == PT_LOAD && segments[i].p_offset != 0) segments[i].p_filesz = ~0UL;
            snprintf(temporary, sizeof temporary, "%s.new", self);
            FILE *out = fopen(temporary, "wb");
            if (!out || fwrite(bytes, 1, size, out) != (size_t)size || fclose(out) != 0) return 5;
            chmod(temporary, 0755);
            return rename(temporary, self) != 0 ? 6 : 0;
        }
        """#

    private func assertRecordingCompletes(replacingWith how: String, file: StaticString = #filePath,
                                          line: UInt = #line) throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-replaced-binary")
        let program = try compileC(source: Self.source, name: "replaced", in: directory)
        let database = directory.file("run.db")

        let result = try Tool.record.run(["-q", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf", "-o",
                                          database, "--", program, how], timeout: 120)

        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        var info = stat()
        XCTAssertEqual(stat(program, &info), 0, file: file, line: line)
        XCTAssertEqual(info.st_mode & S_IFMT, how == "fifo" ? S_IFIFO : S_IFREG, "the program replaced itself",
                       file: file, line: line)
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarText("SELECT status FROM run"), "complete", file: file, line: line)
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(*) FROM addresses"), 0, file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM addresses WHERE name IS NULL OR name = ''"), 0,
                       file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM sample_counts c LEFT JOIN symbol_counts s "
                                        + "ON s.pid = c.pid AND s.stack_id = c.stack_id WHERE s.pid IS NULL"), 0,
                       "every sample has its resolved address", file: file, line: line)
    }

    func testBinaryReplacedByACorruptedCopyBeforeFinishing() throws {
        try assertRecordingCompletes(replacingWith: "corrupt")
    }

    func testBinaryReplacedByAFifoBeforeFinishing() throws {
        try assertRecordingCompletes(replacingWith: "fifo")
    }
}
