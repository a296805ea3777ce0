import CTprofDemangle
import Glibc

/// Readable names for mangled C++, Rust and Swift symbols; other names come back unchanged.
public enum Demangler {
    /// The demangled form of `name`, or `name` itself when it is not mangled.
    public static func demangle(_ name: String) -> String {
        // A PLT stub is named after its function with "@plt" after the mangled name; perf demangles the function.
        if name.hasSuffix("@plt") && name.utf8.count > 4 { return demangle(String(name.dropLast(4))) + "@plt" }
        if isSwift(name) {
            if let text = name.withCString({ CTprofDemangle_swift($0, strlen($0)) }) {
                defer { free(text) }
                return String(cString: text)
            }
        }
        if name.hasPrefix("_Z") || name.hasPrefix("_R") {
            if let text = CTprofDemangle_native(name) {
                defer { free(text) }
                return String(cString: text)
            }
        }
        return name
    }

    private static func isSwift(_ name: String) -> Bool {
        name.hasPrefix("$s") || name.hasPrefix("_$s") || name.hasPrefix("$S") || name.hasPrefix("_$S")
            || name.hasPrefix("_T0") || name.hasPrefix("$e") || name.hasPrefix("_$e")
    }
}
