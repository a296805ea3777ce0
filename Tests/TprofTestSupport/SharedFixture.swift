import Foundation

/// A fixture built once per test process and shared by every test that asks for it (compiled programs, real
/// recordings); its clean-up runs when the process exits. A failure to build is kept and rethrown to each caller.
public final class SharedFixture<Value> {
    private let lock = NSLock()
    private var built: Result<Value, Error>?
    private let make: () throws -> Value
    private let cleanUp: (Value) -> Void

    public init(make: @escaping () throws -> Value, cleanUp: @escaping (Value) -> Void = { _ in }) {
        self.make = make
        self.cleanUp = cleanUp
    }

    /// The fixture, built on first use.
    public func value() throws -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let built { return try built.get() }
        let result = Result { try make() }
        built = result
        if case .success(let value) = result {
            let cleanUp = self.cleanUp
            ExitCleanUp.register { cleanUp(value) }
        }
        return try result.get()
    }
}

/// Clean-ups run once at process exit, in reverse order of registration.
private enum ExitCleanUp {
    nonisolated(unsafe) private static var actions: [() -> Void] = []
    private static let lock = NSLock()

    static func register(_ action: @escaping () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if actions.isEmpty { atexit { ExitCleanUp.runAll() } }
        actions.append(action)
    }

    private static func runAll() {
        lock.lock()
        let pending = actions.reversed()
        actions.removeAll()
        lock.unlock()
        for action in pending { action() }
    }
}
