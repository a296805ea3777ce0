// swift-tools-version:6.0
import PackageDescription

// Linux only: perf_event_open(2), signalfd(2), /proc and renameat2(2) have no counterpart elsewhere, and SwiftPM has
// no platform list that says so; other systems stop here, before any target is compiled.
#if !os(Linux)
#error("tprof runs on Linux only: it samples through perf_event_open(2)")
#endif

let package = Package(
    name: "tprof",
    products: [
        .executable(name: "tprof-record", targets: ["tprof-record"]),
        .executable(name: "tprof-report", targets: ["tprof-report"]),
        .executable(name: "tprof-count", targets: ["tprof-count"]),
        .executable(name: "tprof-bench", targets: ["tprof-bench"]),
        .executable(name: "tprof-top", targets: ["tprof-top"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C shims: the variadic perf_event_open syscall, ioctl request numbers, atomics on the
        // kernel-shared ring-buffer page, fork/exec of the profiled command, and renameat2.
        .target(name: "CTprofLinux"),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Demangler entry points: libiberty (C++, Rust) and the Swift runtime's swift_demangle.
        .target(name: "CTprofDemangle", linkerSettings: [.linkedLibrary("iberty")]),
        .systemLibrary(name: "CElf", pkgConfig: "libdw", providers: [.apt(["libelf-dev", "libdw-dev"])]),
        // Capture engine: backends, ring-buffer parsing, per-CPU buffers, the bounded buffer list.
        .target(name: "TprofCapture", dependencies: ["CTprofLinux"]),
        // Store: the embedded schema, the SQLite wrapper and the batched writer.
        // The SQLite wrapper, the embedded schema and what reading a recording needs; writes nothing.
        .target(name: "TprofDatabase", dependencies: ["CSQLite", "TprofCapture"]),
        .target(name: "TprofStore", dependencies: ["CSQLite", "CTprofLinux", "TprofCapture", "TprofDatabase"]),
        // Symbols, a pure layer (addresses in, frames out): ELF symbol tables, DWARF lines and CFI unwinding,
        // kallsyms, JIT maps, demangling. No SQL.
        .target(name: "TprofSymbols", dependencies: ["CElf", "CTprofDemangle", "CTprofLinux", "TprofCapture"]),
        // Finishing stage: DWARF unwinding and symbol resolution of a recorded database, the store's tables through
        // the symbols layer (also `tprof-report --resymbolize`).
        .target(name: "TprofFinish", dependencies: ["TprofStore", "TprofSymbols", "TprofCapture"]),
        // Recording session: targets, /proc snapshots, host facts, signals, the summary.
        .target(
            name: "TprofRecorder",
            dependencies: [
                "TprofCapture", "TprofStore", "TprofFinish", "TprofSymbols", "TprofCLI", "CTprofLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Synthetic recordings through the real buffers and writer, for tests and tprof-bench; never linked into
        // tprof-record.
        .target(name: "TprofSynthetic", dependencies: ["TprofRecorder", "TprofCapture", "TprofStore", "TprofFinish"]),
        // One-line errors, exit codes and arguments as bytes, shared by the command-line tools.
        .target(
            name: "TprofCLI",
            dependencies: ["TprofStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "tprof-record",
            dependencies: [
                "TprofRecorder",
                "TprofCapture",
                "TprofStore",
                "TprofCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Reports: what a report holds, read through the SQL views of the schema (grouped tables, stacks, the
        // timeline, the run header and statistics), and the output files it writes. Nothing here formats.
        .target(name: "TprofReport", dependencies: ["TprofDatabase", "TprofCLI", "CTprofLinux", "CCapstone"]),
        // Debian's capstone, the disassembler of `tprof-report --annotate`.
        .systemLibrary(name: "CCapstone", pkgConfig: "capstone", providers: [.apt(["libcapstone-dev"])]),
        // Output formats, one file each: table, CSV, JSON, folded stacks, the call tree as text, the SVG flame
        // graph and timeline, pprof (profile.proto, gzipped) and speedscope.
        .target(
            name: "TprofExport",
            dependencies: [
                "TprofReport", "TprofDatabase", "TprofCLI", "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .executableTarget(
            name: "tprof-report",
            dependencies: [
                "TprofReport",
                "TprofExport",
                "TprofFinish",
                "TprofCapture",
                "TprofStore",
                "TprofCLI",
                "CNcurses",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Counting without sampling (perf stat, NetBSD's tprof count): the recorder's launcher and output rules, the
        // report's count sheet and formats.
        .executableTarget(
            name: "tprof-count",
            dependencies: [
                "TprofRecorder",
                "TprofCapture",
                "TprofStore",
                "TprofCLI",
                "TprofReport",
                "TprofExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The terminal library of tprof-top's full-screen view.
        // (No pkgConfig: ncursesw's .pc gives -D flags SwiftPM refuses; the module map links it and tinfo.)
        .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),
        // The live view: the recorder's session waited out by a refresh loop over the database being written.
        .executableTarget(
            name: "tprof-top",
            dependencies: [
                "TprofRecorder", "TprofReport", "TprofFinish", "TprofCapture", "TprofStore", "TprofCLI", "CNcurses",
                "CTprofLinux", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "tprof-bench",
            dependencies: [
                "TprofSynthetic",
                "TprofCapture",
                "TprofStore",
                "TprofCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Shared helpers of the test targets: temporary directories, running the built tools, assertions.
        .target(
            name: "TprofTestSupport",
            dependencies: ["TprofStore"],
            path: "Tests/TprofTestSupport"
        ),
        .testTarget(name: "TprofCaptureTests", dependencies: ["TprofCapture", "TprofTestSupport"]),
        .testTarget(name: "TprofRecorderTests", dependencies: ["TprofRecorder", "TprofCapture"]),
        .testTarget(
            name: "TprofStoreTests", dependencies: ["TprofStore", "TprofRecorder", "TprofSynthetic", "TprofTestSupport"]
        ),
        .testTarget(name: "TprofRecordTests", dependencies: ["TprofDatabase", "TprofStore", "TprofTestSupport"]),
        .testTarget(
            name: "TprofSymbolsTests", dependencies: ["TprofSymbols", "TprofFinish", "TprofStore", "TprofTestSupport"]
        ),
        .testTarget(name: "TprofCallGraphTests", dependencies: ["TprofReport", "TprofStore", "TprofTestSupport"]),
        .testTarget(
            name: "TprofReportTests",
            dependencies: ["TprofReport", "TprofSynthetic", "TprofStore", "TprofTestSupport"]
        ),
        .testTarget(name: "TprofExportTests", dependencies: ["TprofExport", "TprofReport", "TprofSynthetic", "TprofStore", "TprofTestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "TprofTopTests", dependencies: ["TprofReport", "TprofStore", "TprofTestSupport"]),
        .testTarget(name: "TprofUnwindTests", dependencies: ["TprofStore", "TprofTestSupport"]),
        .testTarget(name: "TprofOffCPUTests", dependencies: ["TprofStore", "TprofTestSupport"]),
        .testTarget(
            name: "TprofCountTests", dependencies: ["TprofStore", "TprofReport", "TprofExport", "TprofTestSupport"]
        ),
        .testTarget(
            name: "TprofAnnotateTests", dependencies: ["TprofSymbols", "TprofFinish", "TprofStore", "TprofTestSupport"]
        ),
        .testTarget(
            name: "TprofFaultTests",
            dependencies: ["TprofStore", "TprofRecorder", "TprofSynthetic", "TprofCapture", "TprofTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
