/// A read-only view of a row-major `[rows, columns]` weight matrix in its stored precision
/// (usually memory-mapped from a safetensors or GGUF file). `y = x · Wᵀ` is the nn.Linear
/// convention. A block-quantized row is `columns / dtype.blockElements` consecutive blocks.
public struct WeightMatrix: @unchecked Sendable {
    /// First byte of element (0, 0).
    public let base: UnsafeRawPointer
    /// Stored precision.
    public let dtype: DType
    /// Output features (rows).
    public let rows: Int
    /// Input features (columns).
    public let columns: Int

    /// Creates a view.
    /// - Parameters:
    ///   - base: the first element.
    ///   - dtype: its precision.
    ///   - rows: number of rows (output features).
    ///   - columns: number of columns (input features); a multiple of `dtype.blockElements`
    ///     (a loader checks with `DType.checkRow(columns:tensor:)` first: anything else is a
    ///     programming error).
    public init(base: UnsafeRawPointer, dtype: DType, rows: Int, columns: Int) {
        precondition(columns % dtype.blockElements == 0, "\(columns) columns are not whole \(dtype) blocks")
        self.base = base
        self.dtype = dtype
        self.rows = rows
        self.columns = columns
    }

    /// Bytes the matrix occupies (what one full pass over it reads from memory).
    public var byteCount: Int { rows * rowBytes }

    /// Bytes of one row.
    public var rowBytes: Int { dtype.byteCount(elements: columns) }

    /// Pointer to row `r`.
    @inline(__always) public func row(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }
}
