import Testing
@testable import NGramStore
