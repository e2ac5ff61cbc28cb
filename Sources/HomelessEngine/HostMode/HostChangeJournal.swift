import Logging

/// Every change host mode makes to the host, in order, each with the step
/// that undoes it. Start-up records a change right after making it; a
/// failed start-up and a clean shutdown both roll the journal back in
/// reverse order, so the host ends exactly as it was however far set-up got.
public final class HostChangeJournal {
    struct Entry {
        var description: String
        var undo: () throws -> Void
    }

    private var entries: [Entry] = []
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public var isEmpty: Bool { entries.isEmpty }

    /// The changes recorded so far, oldest first.
    public var changes: [String] { entries.map(\.description) }

    func record(_ description: String, undo: @escaping () throws -> Void) {
        logger.debug("host changed", metadata: ["change": "\(description)"])
        entries.append(Entry(description: description, undo: undo))
    }

    /// Undoes every change, newest first. A step that fails is logged and
    /// the rest still run (an address that cannot come back must not keep
    /// the routes from coming back). Returns the failures.
    @discardableResult
    public func rollBack() -> [String] {
        var failures: [String] = []
        while let entry = entries.popLast() {
            do {
                try entry.undo()
                logger.debug("host change undone", metadata: ["change": "\(entry.description)"])
            } catch {
                let message = "undo \(entry.description): \(error)"
                logger.error("could not undo a host change", metadata: ["change": "\(entry.description)", "error": "\(error)"])
                failures.append(message)
            }
        }
        return failures
    }
}
