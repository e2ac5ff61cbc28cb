import HomelessSecurity
import Synchronization

/// The slow path's SA database as the control thread sees it for
/// `homeless show sa`: the mobility controller publishes a copy after each
/// change (replay windows, sequence counters, bindings) and the control
/// thread reads the latest copy under the lock. The database is a value
/// type, so a published copy shares storage until the slow path next
/// changes it. Workers never touch it.
final class SecurityAssociationAccess: @unchecked Sendable {
    private let latest = Mutex(SecurityAssociationDatabase())

    init() {}

    func publish(_ database: SecurityAssociationDatabase) {
        latest.withLock { $0 = database }
    }

    func read<Result>(_ body: (SecurityAssociationDatabase) -> Result) -> Result {
        latest.withLock { body($0) }
    }
}
