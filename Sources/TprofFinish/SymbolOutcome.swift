import TprofSymbols

/// What symbol resolution did, for the summary and `--stat`.
public struct SymbolOutcome: Equatable {
    public var addresses = 0
    public var withSymbol = 0
    public var libraryOnly = 0
    public var unknown = 0
    /// Addresses whose mapping depended on the sample's time (exec, remapping), resolved per sample.
    public var timeDependent = 0
    /// Addresses that kept the symbol an earlier resolution gave them, the new pass finding less.
    public var kept = 0
    /// Files not read because their build id is not the one recorded for them.
    public var skippedFiles: [SkippedFile] = []
    public var seconds = 0.0

    public init() {}
}
