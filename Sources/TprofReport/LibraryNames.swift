extension ResultTable {
    /// The table with each library (the `dso` column) shown by its file name, as perf's tables show it: a long
    /// install path would leave no room for the symbol. Rows are still grouped by the full path, which csv, json and
    /// `--full-paths` print.
    public func withLibraryFileNames() -> ResultTable {
        guard let column = columns.firstIndex(of: "dso") else { return self }
        var table = self
        for index in table.rows.indices {
            if case .text(let path) = table.rows[index][column] {
                table.rows[index][column] = .text(Self.fileName(ofLibrary: path))
            }
        }
        return table
    }

    /// `/usr/lib/x86_64-linux-gnu/libc.so.6` is `libc.so.6`; names that are not paths (`[kernel.kallsyms]`,
    /// `[vdso]`, `//anon`) stay as they are.
    public static func fileName(ofLibrary path: String) -> String {
        guard path.hasPrefix("/"), !path.hasPrefix("//"), let slash = path.lastIndex(of: "/"),
              path.index(after: slash) < path.endIndex else { return path }
        return String(path[path.index(after: slash)...])
    }
}
