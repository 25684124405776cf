import Foundation

/// The metadata record of a store: what wrote it, with which tokenizer, counting what.
///
/// Stored as JSON under the key `format` of the `meta` database so a person can read it with
/// `mdb_dump`; `magic` and `formatVersion` are checked before the rest is decoded so that a store
/// of a later format reports a version mismatch, not a decoding failure.
public struct StoreMetadata: Codable, Sendable, Equatable {
    /// Identifies the file as ours.
    public static let expectedMagic = "decograph.ngram-store"
    /// The record layout this program reads and writes (docs/ngram-store.md).
    public static let currentFormatVersion = 2
    /// The versions this program opens: version 1 (fixed 4-byte ids, entries as a list) is read
    /// and written as it is; `store merge` converts it (docs/ngram-store.md, "Format versions").
    public static let readableFormatVersions = 1...currentFormatVersion

    /// Always `expectedMagic`.
    public var magic: String
    /// The record layout version.
    public var formatVersion: Int
    /// The tokenizer's vocabulary fingerprint given by the caller when the store was created.
    public var tokenizerFingerprint: String
    /// What is counted.
    public var parameters: NGramParameters

    /// Creates the metadata of a new store.
    /// - Parameters:
    ///   - tokenizerFingerprint: the tokenizer's vocabulary fingerprint.
    ///   - parameters: what is counted.
    ///   - formatVersion: the record layout (tests create version-1 stores).
    public init(tokenizerFingerprint: String, parameters: NGramParameters, formatVersion: Int = currentFormatVersion) {
        magic = Self.expectedMagic
        self.formatVersion = formatVersion
        self.tokenizerFingerprint = tokenizerFingerprint
        self.parameters = parameters
    }

    private struct Header: Decodable {
        var magic: String
        var formatVersion: Int
    }

    /// Decodes and checks a metadata record.
    /// - Throws: `.notAStore` for a foreign record, `.formatVersionMismatch` for another version,
    ///   `.corrupt` when the record does not decode.
    static func decode(_ bytes: Data, path: String) throws -> StoreMetadata {
        guard let header = try? JSONDecoder().decode(Header.self, from: bytes), header.magic == expectedMagic else {
            throw NGramStoreError(.notAStore, path: path, "not an n-gram store: its metadata record is missing the magic '\(expectedMagic)'")
        }
        guard readableFormatVersions.contains(header.formatVersion) else {
            throw NGramStoreError(.formatVersionMismatch, path: path, "the store has format version \(header.formatVersion) but this program reads versions \(readableFormatVersions.lowerBound)…\(readableFormatVersions.upperBound); open it with the decograph that wrote it, or rebuild it with 'decograph store build'")
        }
        do {
            let metadata = try JSONDecoder().decode(StoreMetadata.self, from: bytes)
            try metadata.parameters.validate(path: path)
            return metadata
        } catch let error as NGramStoreError {
            throw NGramStoreError(.corrupt, path: path, "the metadata record is damaged: \(error.message)")
        } catch {
            throw NGramStoreError(.corrupt, path: path, "the metadata record is damaged: \(error)")
        }
    }

    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain strings and integers cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }
}

extension StoreMetadata {
    /// Checks that the store was built for the tokenizer with this vocabulary fingerprint.
    /// - Parameters:
    ///   - fingerprint: the tokenizer's fingerprint.
    ///   - path: the store's file, for the message.
    /// - Throws: `NGramStoreError` with code `.tokenizerMismatch`.
    public func requireTokenizer(_ fingerprint: String, path: String) throws {
        guard tokenizerFingerprint == fingerprint else {
            throw NGramStoreError(.tokenizerMismatch, path: path, "the store was built with tokenizer '\(tokenizerFingerprint)', not '\(fingerprint)'; build a store for this tokenizer")
        }
    }
}
