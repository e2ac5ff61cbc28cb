import HomelessSecurity
import Synchronization

/// The slow path's SA database, kept under a mutex so the control thread
/// can read it for `homeless show sa`. The mobility controller changes it
/// in place under the lock (replay windows, sequence counters, bindings:
/// an uncontended lock per signalling packet); a reader takes a copy under
/// the lock, which shares storage, so the slow path's next change after a
/// read copies the database once. Publishing a copy after every change
/// instead made every verified packet copy every SA (O(SAs) per packet).
/// A reader never sees a change half made. Workers never touch it.
final class SecurityAssociationAccess: @unchecked Sendable {
    private let database = Mutex(SecurityAssociationDatabase())

    init() {}

    /// Installs `replacement` as the whole database.
    func publish(_ replacement: SecurityAssociationDatabase) {
        database.withLock { $0 = replacement }
    }

    func read<Result>(_ body: (SecurityAssociationDatabase) -> Result) -> Result {
        database.withLock { body($0) }
    }

    /// Changes the database in place (the slow path only). `body` must not
    /// call back into this object: the lock is not recursive.
    func modify<Result>(_ body: (inout SecurityAssociationDatabase) -> Result) -> Result {
        database.withLock { body(&$0) }
    }
}
