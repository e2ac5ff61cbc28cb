import Foundation
import HomelessSystem
import Testing

/// The file reader behind `homeless inspect`: whole files, size limits,
/// devices without a size, and errno-carrying errors.
@Suite struct WholeFileReaderTests {
    @Test func readsARegularFileExactly() throws {
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let path = NSTemporaryDirectory() + "homeless-reader-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try WholeFileReader.read(path: path) == bytes)
        #expect(throws: FileReadError.tooLarge(subject: path, size: 200_000, limit: 199_999)) {
            try WholeFileReader.read(path: path, limit: 199_999)
        }
    }

    @Test func endlessDeviceStopsAtTheLimit() throws {
        // /dev/zero reports no size and never ends: the limit must stop it.
        #expect(throws: FileReadError.tooLarge(subject: "/dev/zero", size: -1, limit: 100_000)) {
            try WholeFileReader.read(path: "/dev/zero", limit: 100_000)
        }
    }

    @Test func errorsCarryErrnoAndReadWell() throws {
        do {
            _ = try WholeFileReader.read(path: "/nonexistent/file")
            Issue.record("read should fail")
        } catch {
            #expect(error == .system(SystemError("open", "/nonexistent/file", errno: ENOENT)))
            #expect(error.description == "/nonexistent/file: No such file or directory")
        }
        #expect(throws: FileReadError.isDirectory(subject: "/")) { try WholeFileReader.read(path: "/") }
    }

    @Test func descriptorReportsItsStatus() throws {
        let descriptor = try FileDescriptor(openingForReading: "/dev/null")
        let status = try descriptor.status()
        #expect(!status.isRegularFile && !status.isDirectory)
        #expect(try WholeFileReader.read(descriptor) == [])
    }
}
