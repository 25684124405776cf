import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Engine

/// The SVG chart of `bench graphs`: a well-formed document (parsed back with an XML parser), one bar
/// per graph and category with its height proportional to the value, names escaped.
@Suite struct BenchmarkChartTests {
    final class Collector: NSObject, XMLParserDelegate {
        var rects: [[String: String]] = []
        var texts: [String] = []
        var current = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == "rect" { rects.append(attributes) }
            current = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" || name == "title" { texts.append(current) }
        }
    }

    @Test func barsAreTheValues() throws {
        let chart = BenchmarkChart(title: "speed <&> MAT", categories: ["qa", "math"], graphs: ["greedy", "a&b"],
                                   panels: [.init(title: "speedup", values: [[1, 1], [1.5, 0.75]], reference: 1),
                                            .init(title: "MAT", values: [[1, 1], [3, 2]])])
        let collector = Collector()
        let parser = XMLParser(data: Data(chart.svg.utf8))
        parser.delegate = collector
        #expect(parser.parse(), "the SVG must be well-formed XML")
        // Background, 2 panels × 2 categories × 2 graphs, 2 legend swatches.
        #expect(collector.rects.count == 1 + 8 + 2)
        let bars = collector.rects.dropFirst().prefix(8).map { Double($0["height"]!)! }
        // Category-major: per category, greedy then a&b.
        #expect(abs(bars[1] / bars[0] - 1.5) < 0.01 && abs(bars[3] / bars[2] - 0.75) < 0.01)
        #expect(abs(bars[5] / bars[4] - 3) < 0.01 && abs(bars[7] / bars[6] - 2) < 0.01)
        #expect(collector.texts.contains("speed <&> MAT") && collector.texts.contains("a&b"))
        #expect(BenchmarkChart.ticks(upTo: 3.3) == [0, 1, 2, 3])
        #expect(BenchmarkChart.number(1.50) == "1.5" && BenchmarkChart.number(2) == "2")
    }
}
