import Foundation

/// A grouped bar chart as a standalone SVG document, written without a plotting library: one
/// panel per measure (speedup over the baseline, MAT), categories along the x axis, one bar per
/// graph in each category, a legend, and a dashed reference line (1.0: the baseline's level).
/// `bench graphs --svg` writes it; a browser shows it.
public struct BenchmarkChart: Sendable {
    /// One measure's values: per graph, per category.
    public struct Panel: Sendable {
        /// The measure's name (axis title).
        public var title: String
        /// `values[g][c]`: graph g in category c.
        public var values: [[Double]]
        /// A reference level drawn across the panel, if any.
        public var reference: Double?

        /// Creates a panel.
        /// - Parameters:
        ///   - title: the measure's name.
        ///   - values: per graph, per category.
        ///   - reference: a level drawn as a dashed line.
        public init(title: String, values: [[Double]], reference: Double? = nil) {
            self.title = title
            self.values = values
            self.reference = reference
        }
    }

    /// The chart's title.
    public var title: String
    /// Category names, in order.
    public var categories: [String]
    /// Graph names, in order (the legend).
    public var graphs: [String]
    /// The panels, top to bottom.
    public var panels: [Panel]

    /// Creates a chart.
    /// - Parameters:
    ///   - title: its title.
    ///   - categories: category names.
    ///   - graphs: graph names.
    ///   - panels: the measures.
    public init(title: String, categories: [String], graphs: [String], panels: [Panel]) {
        self.title = title
        self.categories = categories
        self.graphs = graphs
        self.panels = panels
    }

    /// Layout, in SVG user units.
    static let width = 960.0, panelHeight = 260.0, top = 56.0, left = 64.0, right = 24.0, gap = 48.0, legendRow = 22.0
    /// Distinct colours for up to eight graphs (then they repeat).
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]

    /// The document.
    public var svg: String {
        let plotWidth = Self.width - Self.left - Self.right
        let legendHeight = Double((graphs.count + 3) / 4) * Self.legendRow
        let height = Self.top + Double(panels.count) * (Self.panelHeight + Self.gap) + legendHeight + 16
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(Self.width))\" height=\"\(Self.number(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(Self.number(Self.width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(Self.escaped(title))</text>\n"
        for (p, panel) in panels.enumerated() {
            let y0 = Self.top + Double(p) * (Self.panelHeight + Self.gap)
            let maximum = Swift.max(panel.values.flatMap { $0 }.filter(\.isFinite).max() ?? 1, panel.reference ?? 0, 1e-9) * 1.1
            let scale = (Self.panelHeight - 24) / maximum
            let baseY = y0 + Self.panelHeight - 24
            out += "<text x=\"16\" y=\"\(Self.number(y0 + Self.panelHeight / 2))\" transform=\"rotate(-90 16 \(Self.number(y0 + Self.panelHeight / 2)))\" text-anchor=\"middle\">\(Self.escaped(panel.title))</text>\n"
            out += "<line x1=\"\(Self.number(Self.left))\" y1=\"\(Self.number(baseY))\" x2=\"\(Self.number(Self.left + plotWidth))\" y2=\"\(Self.number(baseY))\" stroke=\"black\"/>\n"
            for tick in Self.ticks(upTo: maximum) {
                let y = baseY - tick * scale
                out += "<line x1=\"\(Self.number(Self.left - 4))\" y1=\"\(Self.number(y))\" x2=\"\(Self.number(Self.left))\" y2=\"\(Self.number(y))\" stroke=\"black\"/>"
                out += "<text x=\"\(Self.number(Self.left - 6))\" y=\"\(Self.number(y + 4))\" text-anchor=\"end\">\(Self.number(tick))</text>\n"
            }
            let groupWidth = plotWidth / Double(Swift.max(categories.count, 1))
            let barWidth = groupWidth * 0.8 / Double(Swift.max(graphs.count, 1))
            for (c, category) in categories.enumerated() {
                let x0 = Self.left + Double(c) * groupWidth + groupWidth * 0.1
                for g in graphs.indices {
                    let value = g < panel.values.count && c < panel.values[g].count ? panel.values[g][c] : .nan
                    guard value.isFinite, value >= 0 else { continue }
                    let h = value * scale
                    out += "<rect x=\"\(Self.number(x0 + Double(g) * barWidth))\" y=\"\(Self.number(baseY - h))\" width=\"\(Self.number(barWidth * 0.9))\" height=\"\(Self.number(h))\" fill=\"\(Self.palette[g % Self.palette.count])\"><title>\(Self.escaped(graphs[g])), \(Self.escaped(category)): \(Self.number(value))</title></rect>\n"
                }
                out += "<text x=\"\(Self.number(x0 + groupWidth * 0.4))\" y=\"\(Self.number(baseY + 16))\" text-anchor=\"middle\">\(Self.escaped(category))</text>\n"
            }
            if let reference = panel.reference {
                let y = baseY - reference * scale
                out += "<line x1=\"\(Self.number(Self.left))\" y1=\"\(Self.number(y))\" x2=\"\(Self.number(Self.left + plotWidth))\" y2=\"\(Self.number(y))\" stroke=\"black\" stroke-dasharray=\"4 4\"/>\n"
            }
        }
        let legendY = Self.top + Double(panels.count) * (Self.panelHeight + Self.gap)
        for (g, graph) in graphs.enumerated() {
            let x = Self.left + Double(g % 4) * (plotWidth / 4), y = legendY + Double(g / 4) * Self.legendRow
            out += "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"12\" height=\"12\" fill=\"\(Self.palette[g % Self.palette.count])\"/>"
            out += "<text x=\"\(Self.number(x + 18))\" y=\"\(Self.number(y + 11))\">\(Self.escaped(graph))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// Round tick values from 0 to `maximum`: steps of 1, 2 or 5 times a power of ten, about five.
    static func ticks(upTo maximum: Double) -> [Double] {
        let rough = maximum / 5
        let power = Foundation.pow(10, Foundation.floor(Foundation.log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? rough
        return stride(from: 0.0, through: maximum, by: step).map { $0 }
    }

    /// A number as SVG and readers want it: at most two decimals, no trailing zeros.
    static func number(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Text escaped for XML content.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
