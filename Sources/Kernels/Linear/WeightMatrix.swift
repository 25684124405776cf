import CKernels

/// A read-only view of a row-major `[rows, columns]` weight matrix in its stored precision
/// (usually memory-mapped from a safetensors or GGUF file). `y = x · Wᵀ` is the nn.Linear
/// convention.
///
/// A block-quantized matrix is held *tiled*: on creation its rows are copied once into the
/// layout the quantized kernels read (`dg_tile_rows`: 8 rows interleaved block by block, so one
/// load gives a chunk of all 8 rows), the same bytes permuted, the copy owned by the view. Reading
/// rows back goes through `widen(rows:into:)`.
public struct WeightMatrix: @unchecked Sendable {
    /// First byte of the matrix: element (0, 0) in the row layout, or the first tile of a
    /// quantized matrix.
    public let base: UnsafeRawPointer
    /// Stored precision.
    public let dtype: DType
    /// Output features (rows).
    public let rows: Int
    /// Input features (columns).
    public let columns: Int
    /// Owns the tiled copy of a quantized matrix.
    private let tiles: TiledCopy?

    /// Creates a view; a quantized matrix is tiled into a copy it owns (parallel over `pool`).
    /// - Parameters:
    ///   - base: the first element, row layout.
    ///   - dtype: its precision.
    ///   - rows: number of rows (output features).
    ///   - columns: number of columns (input features); a multiple of `dtype.blockElements`
    ///     (a loader checks with `DType.checkRow(columns:tensor:)` first: anything else is a
    ///     programming error).
    ///   - pool: the threads that tile a quantized matrix.
    public init(base: UnsafeRawPointer, dtype: DType, rows: Int, columns: Int, pool: ComputePool = .shared) {
        precondition(columns % dtype.blockElements == 0, "\(columns) columns are not whole \(dtype) blocks")
        self.dtype = dtype
        self.rows = rows
        self.columns = columns
        if dtype.isQuantized {
            let copy = TiledCopy(base, dtype: dtype, rows: rows, columns: columns, pool: pool)
            tiles = copy
            self.base = UnsafeRawPointer(copy.pointer)
        } else {
            tiles = nil
            self.base = base
        }
    }

    /// Bytes the matrix occupies (what one full pass over it reads from memory).
    public var byteCount: Int { rows * rowBytes }

    /// Bytes of one row.
    public var rowBytes: Int { dtype.byteCount(elements: columns) }

    /// Pointer to row `r` of an unquantized matrix (a quantized one is tiled: `widen`).
    @inline(__always) func row(_ r: Int) -> UnsafeRawPointer {
        assert(!dtype.isQuantized, "a quantized matrix is tiled: widen its rows")
        return base + r * rowBytes
    }

    /// Writes rows `r` as f32, `columns` values per row, to `destination`.
    public func widen(rows r: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        if dtype.isQuantized {
            dg_dequantize_tiled(dtype.rawValue, base, columns, r.lowerBound, r.count, destination)
        } else {
            convertToF32(dtype, row(r.lowerBound), destination, count: r.count * columns)
        }
    }
}

/// The tiled copy of a quantized matrix (`dg_tile_rows`), freed with the last view holding it.
private final class TiledCopy: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(_ source: UnsafeRawPointer, dtype: DType, rows: Int, columns: Int, pool: ComputePool) {
        let bytes = dg_tiled_bytes(dtype.rawValue, rows, columns)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        let tileRows = Int(DG_QUANT_TILE_ROWS), tiles = (rows + tileRows - 1) / tileRows
        let destination = pointer
        pool.parallelFor(count: tiles, work: bytes) { t in
            dg_tile_rows(dtype.rawValue, source, rows, columns, t.lowerBound, t.upperBound, destination)
        }
    }

    deinit { pointer.deallocate() }
}
