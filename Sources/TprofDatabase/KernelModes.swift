import TprofCapture

/// The sample modes whose addresses are the kernel's, its own or a guest's: what reports mark `[k]` and resolve
/// with kernel symbols. The one definition of the kernel test on `mode` columns.
public enum KernelModes {
    /// The modes, as `samples.mode` stores them.
    public static let modes: [SampleMode] = [.kernel, .guestKernel]

    /// The user modes, the host's and a guest's: what `--user` keeps.
    public static let userModes: [SampleMode] = [.user, .guestUser]

    /// SQL that is true when `column` holds a kernel mode: `mode IN (1, 4)`.
    public static func sql(_ column: String = "mode") -> String {
        inList(column, modes)
    }

    /// SQL that is true when `column` holds a user mode: `mode IN (2, 5)`.
    public static func userSQL(_ column: String = "mode") -> String {
        inList(column, userModes)
    }

    private static func inList(_ column: String, _ modes: [SampleMode]) -> String {
        "\(column) IN (\(modes.map { String($0.rawValue) }.joined(separator: ", ")))"
    }
}
