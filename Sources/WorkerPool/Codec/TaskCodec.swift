import Foundation

/// How task arguments and results cross the pool's channels.
///
/// Every chunk's arguments are encoded when the chunk is cut from the input and decoded by the
/// worker that runs it; every chunk's results are encoded by the worker and decoded before they are
/// delivered. That is the work a process pool does with pickle, so chunk-size trade-offs measured
/// with a pool here carry over to one across processes.
///
/// - `.binary` (default): WorkerPool's own compact binary `Encoder`/`Decoder` (see `docs/codecs.md`).
/// - `.json`: Foundation's `JSONEncoder`/`JSONDecoder`.
/// - `.passthrough`: values cross in memory; nothing is encoded.
/// - `.custom(_:)`: any `TaskCoder`, such as one built on `PropertyListEncoder`.
public struct TaskCodec: Sendable, CustomStringConvertible {
    @usableFromInline
    enum Kind: Sendable {
        case binary
        case passthrough
        case coder(any TaskCoder)
    }

    /// The kind without its payload, and the custom coder: what the per-task path reads (a copy of
    /// `kind` would copy its existential, with reference counting, on every task).
    @usableFromInline
    enum Tag: Sendable {
        case binary, passthrough, coder
    }

    @usableFromInline let kind: Kind
    @usableFromInline let tag: Tag
    @usableFromInline let coder: (any TaskCoder)?

    init(kind: Kind) {
        self.kind = kind
        switch kind {
        case .binary: tag = .binary; coder = nil
        case .passthrough: tag = .passthrough; coder = nil
        case .coder(let custom): tag = .coder; coder = custom
        }
    }

    /// The default: WorkerPool's binary `Codable` encoding, written for speed.
    public static let binary = TaskCodec(kind: .binary)
    /// Foundation's `JSONEncoder`/`JSONDecoder`: readable, slow.
    public static let json = TaskCodec(kind: .coder(JSONTaskCoder()))
    /// No encoding: values cross in memory. The fastest, and the one that hides what a process pool pays.
    public static let passthrough = TaskCodec(kind: .passthrough)

    /// A codec built on `coder`. Each chunk reaches the coder as one value (an array of the chunk's
    /// arguments or results), so a coder is called twice per chunk and direction, never per item.
    public static func custom(_ coder: some TaskCoder) -> TaskCodec {
        TaskCodec(kind: .coder(coder))
    }

    /// A short name: `binary`, `json`, `passthrough` or the custom coder's `name`.
    public var name: String {
        switch kind {
        case .binary: return "binary"
        case .passthrough: return "passthrough"
        case .coder(let coder): return coder.name
        }
    }

    public var description: String { name }
}

/// A codec that a user supplies: an encoder and decoder of whole values, like `JSONEncoder` and
/// `JSONDecoder`. Both methods are called from the pool's worker threads and from submitting
/// threads, concurrently, so the coder must be safe to share (create the Foundation coder per call,
/// as `JSONTaskCoder` does, or guard it).
public protocol TaskCoder: Sendable {
    /// A short name for benchmark tables and error messages.
    var name: String { get }
    /// Encodes `value` (a chunk: an array of arguments or results).
    func encode<T: Encodable>(_ value: T) throws -> Data
    /// Decodes a value of `type` from bytes that `encode` produced.
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T
}

extension TaskCoder {
    /// "custom", unless the coder names itself.
    public var name: String { "custom" }
}

/// `TaskCodec.json`: Foundation's JSON coders, one pair per call.
public struct JSONTaskCoder: TaskCoder {
    /// A coder that creates Foundation's JSON coders per call (safe to share between threads).
    public init() {}
    /// "json".
    public var name: String { "json" }
    /// Encodes `value` as JSON. Throws what `JSONEncoder` throws.
    public func encode<T: Encodable>(_ value: T) throws -> Data { try JSONEncoder().encode(value) }
    /// Decodes a `type` from JSON. Throws what `JSONDecoder` throws.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}

/// A `TaskCoder` on Foundation's binary property lists (a peer in the codec benchmark).
public struct PropertyListTaskCoder: TaskCoder {
    /// A coder that creates Foundation's property-list coders per call (safe to share).
    public init() {}
    /// "plist".
    public var name: String { "plist" }
    /// Encodes `value` as a binary property list. Throws what `PropertyListEncoder` throws.
    public func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = PropertyListEncoder()
        encoder.outputFormat = .binary
        return try encoder.encode(value)
    }
    /// Decodes a `type` from a property list. Throws what `PropertyListDecoder` throws.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try PropertyListDecoder().decode(type, from: data)
    }
}
