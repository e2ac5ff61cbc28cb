import HomelessWire

/// Parses the subset of `setkey(8)` that manual AH keying needs (see
/// docs/SECURITY.md for the exact subset):
///
/// ```
/// add [-4|-6|-n] SRC DST ah SPI [-m transport|any] [-r WINDOW] [-u ID] -A hmac-sha256|hmac-sha1 KEY ;
/// spdadd [-4|-6|-n] SRC[/PLEN][[PORT]] DST[/PLEN][[PORT]] UPPERSPEC -P in|out POLICY ;
/// flush [ah] ;     spdflush ;
/// ```
/// KEY is `0x` followed by hex digits or a "quoted string". SPI is decimal
/// or `0x` hex. POLICY is `discard`, `none` or `ipsec ah/transport//LEVEL`
/// (LEVEL `require`, `use`, `default`, `unique[:ID]`). Every statement ends
/// with `;` and may span lines; `#` starts a comment.
enum SetkeyParser {
    static func parse(_ text: String) throws(SetkeyError) -> ManualKeyingConfiguration {
        let (tokens, tokenDiagnostics) = SetkeyTokenizer.tokens(of: text)
        var diagnostics = tokenDiagnostics
        var configuration = ManualKeyingConfiguration()
        var statement: [SetkeyToken] = []
        for token in tokens {
            if token.kind == .semicolon {
                if !statement.isEmpty {
                    do {
                        try parseStatement(statement, into: &configuration)
                    } catch {
                        diagnostics.append(error)
                    }
                }
                statement.removeAll()
            } else {
                statement.append(token)
            }
        }
        // After an unterminated quote the open statement is that quote's fault.
        if let first = statement.first, tokenDiagnostics.isEmpty {
            diagnostics.append(SetkeyDiagnostic(
                line: first.line, column: first.column, message: "statement '\(first.text)' is not terminated by ';'"))
        }
        guard diagnostics.isEmpty else {
            throw SetkeyError(diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return configuration
    }

    /// Reads a statement's tokens front to back, failing at the token it cannot use.
    struct Cursor {
        let tokens: [SetkeyToken]
        var index = 0

        var isAtEnd: Bool { index >= tokens.count }
        var peek: SetkeyToken? { isAtEnd ? nil : tokens[index] }

        mutating func next(_ what: String) throws(SetkeyDiagnostic) -> SetkeyToken {
            guard let token = peek else {
                let last = tokens.last
                throw SetkeyDiagnostic(
                    line: last?.line ?? 0, column: (last?.column ?? 0) + (last?.text.count ?? 0),
                    message: "expected \(what) before ';'")
            }
            index += 1
            return token
        }

        /// Skips `-4`, `-6` and `-n` (address family and numeric-only flags).
        mutating func skipFamilyFlags() {
            while let token = peek, token.kind == .word, ["-4", "-6", "-n"].contains(token.text) { index += 1 }
        }
    }

    static func error(_ token: SetkeyToken, _ message: String) -> SetkeyDiagnostic {
        SetkeyDiagnostic(line: token.line, column: token.column, message: message)
    }

    static func parseStatement(_ tokens: [SetkeyToken], into configuration: inout ManualKeyingConfiguration) throws(SetkeyDiagnostic) {
        var cursor = Cursor(tokens: tokens)
        let command = try cursor.next("a command")
        switch command.text {
        case "add":
            configuration.associations.append(try parseAdd(&cursor, line: command.line))
        case "spdadd":
            configuration.policies.append(try parseSPDAdd(&cursor, line: command.line))
        case "flush":
            // setkey: delete the SAs (of a protocol) added so far.
            if let protocolToken = cursor.peek {
                guard ["ah", "esp", "ipcomp", "tcp"].contains(protocolToken.text) else {
                    throw error(protocolToken, "unknown protocol '\(protocolToken.text)' for flush")
                }
                cursor.index += 1
                if protocolToken.text == "ah" { configuration.associations.removeAll() }
            } else {
                configuration.associations.removeAll()
            }
        case "spdflush":
            configuration.policies.removeAll()
        case "get", "delete", "deleteall", "update", "dump", "spddelete", "spdupdate", "spddump":
            throw error(command, "'\(command.text)' is not supported in a configuration file (it is loaded as a whole)")
        default:
            throw error(command, "unknown command '\(command.text)'")
        }
        if let extra = cursor.peek {
            throw error(extra, "unexpected '\(extra.text)'")
        }
    }

    // MARK: add

    static func parseAdd(_ cursor: inout Cursor, line: Int) throws(SetkeyDiagnostic) -> ManualSecurityAssociation {
        cursor.skipFamilyFlags()
        let source = try address(cursor.next("a source address"))
        let destination = try address(cursor.next("a destination address"))
        let protocolToken = try cursor.next("a protocol")
        guard protocolToken.text == "ah" else {
            throw error(protocolToken, "protocol '\(protocolToken.text)' is not supported (only ah)")
        }
        let spiToken = try cursor.next("an SPI")
        guard let spi = number(spiToken.text, as: UInt32.self) else {
            throw error(spiToken, "invalid SPI '\(spiToken.text)' (decimal or 0x hex, 32 bits)")
        }
        guard spi > 255 else { throw error(spiToken, "SPI \(spi) is reserved (0-255, RFC 4302 2.4)") }
        var algorithm: AuthenticationAlgorithm?
        var key: [UInt8] = []
        var window: Int?
        var requestID: UInt32?
        while let option = cursor.peek {
            cursor.index += 1
            switch option.text {
            case "-m":
                let mode = try cursor.next("a mode")
                guard mode.text == "transport" || mode.text == "any" else {
                    throw error(mode, "mode '\(mode.text)' is not supported (transport or any)")
                }
            case "-r":
                let size = try cursor.next("a replay window size")
                guard let value = number(size.text, as: UInt32.self),
                    value == 0 || (ReplayWindow.minimumSize...ReplayWindow.maximumSize).contains(Int(value))
                else {
                    throw error(size, "replay window '\(size.text)' must be 0 (off) or \(ReplayWindow.minimumSize)-\(ReplayWindow.maximumSize) packets")
                }
                window = Int(value)
            case "-u":
                let id = try cursor.next("a request id")
                guard let value = number(id.text, as: UInt32.self) else { throw error(id, "invalid request id '\(id.text)'") }
                requestID = value
            case "-A":
                guard algorithm == nil else { throw error(option, "-A given twice") }
                let name = try cursor.next("an authentication algorithm")
                guard let chosen = AuthenticationAlgorithm.allCases.first(where: { $0.setkeyName == name.text }) else {
                    throw error(name, "authentication algorithm '\(name.text)' is not supported (hmac-sha256 or hmac-sha1)")
                }
                let keyToken = try cursor.next("a key")
                key = try keyBytes(keyToken)
                guard key.count == chosen.keyLength else {
                    throw error(keyToken, "\(chosen.setkeyName) needs a \(chosen.keyLength * 8)-bit key, this one has \(key.count * 8) bits")
                }
                algorithm = chosen
            case "-E", "-C":
                throw error(option, "encryption and compression (\(option.text)) are not supported: AH only")
            default:
                throw error(option, "unsupported option '\(option.text)'")
            }
        }
        guard let algorithm else {
            throw SetkeyDiagnostic(line: line, column: 1, message: "add needs '-A ALGORITHM KEY'")
        }
        return ManualSecurityAssociation(
            source: source, destination: destination, spi: spi, algorithm: algorithm, key: key,
            replayWindowSize: window, requestID: requestID, line: line)
    }

    // MARK: spdadd

    static func parseSPDAdd(_ cursor: inout Cursor, line: Int) throws(SetkeyDiagnostic) -> SecurityPolicy {
        cursor.skipFamilyFlags()
        let source = try range(cursor.next("a source range"))
        let destination = try range(cursor.next("a destination range"))
        let upperToken = try cursor.next("an upper-layer protocol")
        let upper: UInt8?
        switch upperToken.text {
        case "any": upper = nil
        case "icmp6", "ipv6-icmp": upper = 58
        case "tcp": upper = 6
        case "udp": upper = 17
        case "ip6", "ipv6": upper = 41
        default:
            guard let value = number(upperToken.text, as: UInt8.self) else {
                throw error(upperToken, "unknown upper-layer protocol '\(upperToken.text)'")
            }
            upper = value
        }
        let flag = try cursor.next("-P")
        guard flag.text == "-P" else { throw error(flag, "expected '-P DIRECTION POLICY', found '\(flag.text)'") }
        let directionToken = try cursor.next("a direction")
        let direction: SecurityAssociationDirection
        switch directionToken.text {
        case "in": direction = .inbound
        case "out": direction = .outbound
        default: throw error(directionToken, "direction '\(directionToken.text)' is not supported (in or out)")
        }
        let actionToken = try cursor.next("discard, none or ipsec")
        let action: PolicyAction
        switch actionToken.text {
        case "discard": action = .discard
        case "none": action = .bypass
        case "ipsec":
            let request = try cursor.next("a request such as ah/transport//require")
            action = .protect(try protectionLevel(request))
        default:
            throw error(actionToken, "policy '\(actionToken.text)' is not supported (discard, none or ipsec)")
        }
        return SecurityPolicy(direction: direction, source: source, destination: destination,
                              upperLayerProtocol: upper, action: action, line: line)
    }

    /// `ah/transport/[src-dst]/level`; the endpoint part is accepted empty
    /// only (transport mode uses the packet's own addresses).
    static func protectionLevel(_ token: SetkeyToken) throws(SetkeyDiagnostic) -> ProtectionLevel {
        let parts = token.text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw error(token, "malformed request '\(token.text)' (expected ah/transport//LEVEL)") }
        guard parts[0] == "ah" else { throw error(token, "protocol '\(parts[0])' is not supported in policies (only ah)") }
        guard parts[1] == "transport" else { throw error(token, "mode '\(parts[1])' is not supported (only transport)") }
        guard parts[2].isEmpty else { throw error(token, "transport mode takes no endpoints ('\(parts[2])')") }
        let level = parts[3]
        switch level {
        case "require": return .require
        case "use": return .use
        case "default": return .default
        case "unique": return .unique(requestID: nil)
        default:
            if level.hasPrefix("unique:"), let id = number(String(level.dropFirst(7)), as: UInt32.self) {
                return .unique(requestID: id)
            }
            throw error(token, "unknown level '\(level)' (require, use, default or unique[:ID])")
        }
    }

    // MARK: Values

    static func address(_ token: SetkeyToken) throws(SetkeyDiagnostic) -> IPv6Address {
        if let address = IPv6Address(token.text) { return address }
        if token.text.split(separator: ".").count == 4 && !token.text.contains(":") {
            throw error(token, "IPv4 address '\(token.text)' is not supported")
        }
        throw error(token, "invalid IPv6 address '\(token.text)'")
    }

    /// `address[/prefixlen][[port]]`, port `any` or a number.
    static func range(_ token: SetkeyToken) throws(SetkeyDiagnostic) -> PolicyAddressRange {
        var text = Substring(token.text)
        var port: UInt16?
        if text.hasSuffix("]"), let open = text.lastIndex(of: "[") {
            let portText = text[text.index(after: open)..<text.index(before: text.endIndex)]
            if portText != "any" {
                guard let value = UInt16(portText) else { throw error(token, "invalid port '\(portText)'") }
                port = value
            }
            text = text[..<open]
        }
        var prefixLength = 128
        if let slash = text.firstIndex(of: "/") {
            let lengthText = text[text.index(after: slash)...]
            guard let value = Int(lengthText), (0...128).contains(value) else {
                throw error(token, "invalid prefix length '\(lengthText)'")
            }
            prefixLength = value
            text = text[..<slash]
        }
        let address = try address(SetkeyToken(kind: .word, text: String(text), line: token.line, column: token.column))
        return PolicyAddressRange(address: address, prefixLength: prefixLength, port: port)
    }

    static func number<T: FixedWidthInteger>(_ text: String, as: T.Type) -> T? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return T(text.dropFirst(2), radix: 16) }
        return T(text, radix: 10)
    }

    static func keyBytes(_ token: SetkeyToken) throws(SetkeyDiagnostic) -> [UInt8] {
        if token.kind == .quoted { return Array(token.text.utf8) }
        guard token.text.hasPrefix("0x") || token.text.hasPrefix("0X") else {
            throw error(token, "a key is 0x followed by hex digits, or a quoted string")
        }
        let digits = Array(token.text.utf8.dropFirst(2))
        guard !digits.isEmpty, digits.count % 2 == 0 else {
            throw error(token, "a hex key needs an even number of digits")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else {
                throw error(token, "invalid hex digit in key")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
