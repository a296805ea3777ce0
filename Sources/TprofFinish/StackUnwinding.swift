import TprofCapture
import TprofStore
import TprofSymbols

/// Unwinds the user stacks copied with each sample (`--call-graph dwarf`) after recording; kernel frames still come
/// from the kernel's chain. Unwound stacks go into the same `stacks` tree as frame-pointer ones, so every report
/// works unchanged.
public enum StackUnwinding {
    /// What unwinding did: samples per outcome ("complete" or the reason it stopped).
    public struct Outcome {
        public var outcomes: [String: Int] = [:]
        public var samples: Int { outcomes.values.reduce(0, +) }
    }

    /// Unwinds every row of `schema.user_stacks`, points each sample at its full stack, rebuilds `sample_counts`
    /// and records `unwind_stats`, in one transaction.
    /// - Parameter progress: told (done, total) as stacks are unwound; an error it throws rolls everything back.
    public static func run(database db: SQLiteDatabase, userStacksSchema schema: String, maxFrames: Int = 127,
                           progress: ((Int, Int) throws -> Void)? = nil) throws -> Outcome {
        var outcome = Outcome()
        try db.execute("BEGIN")
        do {
            let (spaces, _) = try SymbolResolution.addressSpaces(db)
            let tables = try UserStackTables(database: db, schema: schema)
            let total = try tables.count()
            try progress?(0, total)
            // Unwound stacks get nodes of their own after the recorded ones.
            let interner = StackInterner(firstID: try tables.nextStackID())
            // One session per address space: a process that execs gets a new one, so samples from before the
            // exec are unwound with the files that were mapped then.
            struct SpaceKey: Hashable { var pid: Int32; var start: Int64 }
            var sessions: [SpaceKey: UnwindSession] = [:]
            var done = 0
            try tables.forEach { row in
                let key = SpaceKey(pid: row.pid, start: spaces.addressSpaceStart(pid: row.pid, time: row.time))
                let session: UnwindSession
                if let existing = sessions[key] {
                    session = existing
                } else {
                    session = UnwindSession(pid: row.pid, mappings: spaces.fileMappings(of: row.pid, at: row.time))
                    sessions[key] = session
                }
                let (frames, failure) = session.unwind(registers: row.registers, stack: row.stack,
                                                       maxFrames: maxFrames)
                outcome.outcomes[failure ?? "complete", default: 0] += 1
                done += 1
                if done % 1000 == 0 { try progress?(done, total) }
                // Nothing unwound: the sample keeps the kernel's chain it was recorded with.
                guard !frames.isEmpty else { return }
                var chain = CallChainFrames()
                chain.appendContext(try tables.kernelFrames(leaf: row.stackID), kernel: true)
                // A stack that stopped early ends in a [truncated] frame (address 0) at its root.
                chain.appendContext(failure == nil ? frames : frames + [0], kernel: false)
                guard let leaf = interner.intern(chain) else { return }
                try tables.setStack(sampleID: row.sampleID, leaf: leaf)
            }
            try interner.writePending(to: db)
            try tables.finish(outcomes: outcome.outcomes)
            try progress?(total, total)
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
        return outcome
    }
}
