import Foundation
import TprofReport

extension Timeline {
    /// The chart: one stacked bar per bucket, the eight largest series in colour and the rest as "other".
    public func svg(_ table: ResultTable, title: String) -> String {
        var perSeries: [String: Double] = [:]
        var buckets: [Double: [String: Double]] = [:]
        // Samples, or milliseconds of off-CPU time.
        let unit = filter.weight.isTime ? "ms" : "samples"
        for row in table.rows {
            let samples: Double
            switch row[2] {
            case .integer(let count): samples = Double(count)
            case .real(let milliseconds): samples = milliseconds
            default: continue
            }
            guard case .real(let second) = row[0] else { continue }
            let name = row[1].text
            perSeries[name, default: 0] += samples
            buckets[second, default: [:]][name, default: 0] += samples
        }
        let top = perSeries.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(8).map(\.key)
        let palette = ["#e6550d", "#3182bd", "#31a354", "#756bb1", "#de2d26", "#fdae6b", "#9ecae1", "#a1d99b"]
        let seconds = buckets.keys.sorted()
        let maxTotal = max(1, buckets.values.map { $0.values.reduce(0, +) }.max() ?? 1)
        let (left, chartTop, width, height) = (60.0, 50.0, 900.0, 300.0)
        let barWidth = width / Double(max(1, seconds.count))
        var bars = ""
        for (index, second) in seconds.enumerated() {
            var y = chartTop + height
            let values = buckets[second] ?? [:]
            let other = values.filter { !top.contains($0.key) }.values.reduce(0, +)
            for (name, colour) in zip(top + ["other"], palette.prefix(top.count) + ["#bbbbbb"]) {
                let count = name == "other" ? other : (values[name] ?? 0)
                guard count > 0 else { continue }
                let h = count / maxTotal * height
                y -= h
                bars += "<rect x=\"\(f(left + Double(index) * barWidth))\" y=\"\(f(y))\" width=\"\(f(max(1, barWidth - 1)))\" "
                    + "height=\"\(f(h))\" fill=\"\(colour)\"><title>\(name.xmlEscaped) at \(f(second)) s: \(String(format: "%g", count)) \(unit)"
                    + "</title></rect>\n"
            }
        }
        var legend = ""
        for (index, (name, colour)) in zip(top + ["other"], palette.prefix(top.count) + ["#bbbbbb"]).enumerated() {
            let y = chartTop + Double(index) * 18
            legend += "<rect x=\"\(f(left + width + 20))\" y=\"\(f(y))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
                + "<text x=\"\(f(left + width + 38))\" y=\"\(f(y + 11))\">\(name.xmlEscaped)</text>\n"
        }
        let lastSecond = (seconds.last ?? 0) + bucket
        return """
            <?xml version="1.0" standalone="no"?>
            <svg version="1.1" width="1250" height="\(f(chartTop + height + 50))" xmlns="http://www.w3.org/2000/svg">
            <style>text { font-family: sans-serif; font-size: 12px; }</style>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(f(left))" y="25" font-size="16">\(title.xmlEscaped)</text>
            <line x1="\(f(left))" y1="\(f(chartTop + height))" x2="\(f(left + width))" y2="\(f(chartTop + height))" stroke="#000"/>
            <line x1="\(f(left))" y1="\(f(chartTop))" x2="\(f(left))" y2="\(f(chartTop + height))" stroke="#000"/>
            <text x="\(f(left - 5))" y="\(f(chartTop + 10))" text-anchor="end">\(String(format: "%g", maxTotal))</text>
            <text x="\(f(left - 5))" y="\(f(chartTop + height))" text-anchor="end">0</text>
            <text x="\(f(left))" y="\(f(chartTop + height + 20))">\(f(seconds.first ?? 0)) s</text>
            <text x="\(f(left + width))" y="\(f(chartTop + height + 20))" text-anchor="end">\(f(lastSecond)) s</text>
            <text x="\(f(left + width / 2))" y="\(f(chartTop + height + 40))" text-anchor="middle">samples per \(f(bucket)) s</text>
            \(bars)\(legend)</svg>

            """
    }

    private func f(_ value: Double) -> String { String(format: "%.2f", value) }
}
