extension SymbolResolver {
    /// What resolution did, for the summary and `--stat`.
    public struct Outcome: Equatable {
        public var addresses = 0
        public var withSymbol = 0
        public var libraryOnly = 0
        public var unknown = 0
        /// Addresses whose mapping depended on the sample's time (exec, remapping), resolved per sample.
        public var timeDependent = 0
        public var seconds = 0.0
    }
}
