import Foundation
import TprofReport

/// A self-contained interactive SVG flame graph: click a frame to zoom, "Reset zoom" to go back, "Search" for a
/// regular expression (the matched share is shown), a tooltip with samples and share on every frame, kernel frames
/// in another colour than user frames. No network fetches.
public struct FlameGraph {
    public var title: String
    public var subtitle: String
    /// Root at the top (icicle) instead of the bottom.
    public var icicle: Bool
    public var width = 1200.0
    public var frameHeight = 17.0
    /// Frames narrower than this many pixels are left out with what they call, as flamegraph.pl's `--minwidth`
    /// does by default: a large recording has millions of frames of a sample or two (an SVG of 770 MB for 2.8 M
    /// frames of a 20 s `-a -g` recording) that no one could see or open.
    public var minimumWidth = 0.1

    public init(title: String, subtitle: String, icicle: Bool) {
        self.title = title
        self.subtitle = subtitle
        self.icicle = icicle
    }

    /// The SVG document for the profile's merged call tree, one `<g class="f">` per frame. With `base`, a
    /// differential flame graph: widths from `profile`, colour by each frame's growth (red) or shrink (blue) in
    /// share of all samples against `base`.
    public func render(_ profile: StackProfile, base: StackProfile? = nil) -> String {
        let root = profile.tree(inverted: false, byProcess: true)
        let baseRoot = base?.tree(inverted: false, byProcess: true)
        let baseTotal = Double(max(1, baseRoot?.samples ?? 1))
        let total = max(1, root.samples)
        // Walked with an explicit stack, not recursion: a damaged file's call chains can be thousands deep.
        var maxDepth = 0
        var toMeasure: [(node: StackProfile.TreeNode, depth: Int)] = [(root, 0)]
        while let (node, depth) = toMeasure.popLast() {
            maxDepth = max(maxDepth, depth)
            for child in node.children { toMeasure.append((child, depth + 1)) }
        }
        let top = 60.0
        let height = top + Double(maxDepth + 1) * frameHeight + 30
        var frames = ""
        func y(_ depth: Int) -> Double {
            icicle ? top + Double(depth) * frameHeight : height - 30 - Double(depth + 1) * frameHeight
        }
        func emit(_ node: StackProfile.TreeNode, depth: Int, start: Int64, baseNode: StackProfile.TreeNode?) {
            let x = Double(start) / Double(total) * width
            let w = Double(node.samples) / Double(total) * width
            let name = node.frame?.name ?? "all"
            let kernel = node.frame?.kernel ?? false
            let share = 100 * Double(node.samples) / Double(total)
            var tip = "\(name)\(kernel ? " [k]" : "") (\(node.samples) \(profile.weight.stackUnit), "
                + "\(String(format: "%.2f", share))%)"
            var fill = colour(name, kernel: kernel, root: node.frame == nil, offCPU: profile.weight == .offCPU)
            if baseRoot != nil {
                let baseShare = 100 * Double(baseNode?.samples ?? 0) / baseTotal
                tip += String(format: ", %+.2f points against the base", share - baseShare)
                fill = differenceColour(share - baseShare)
            }
            frames += "<g class=\"f\" data-x=\"\(start)\" data-w=\"\(node.samples)\" data-d=\"\(depth)\" "
                + "data-k=\"\(kernel ? 1 : 0)\"><title>\(tip.xmlEscaped)</title>"
                + "<rect x=\"\(fmt(x))\" y=\"\(fmt(y(depth)))\" width=\"\(fmt(w))\" height=\"\(fmt(frameHeight - 1))\" "
                + "rx=\"2\" fill=\"\(fill)\"/>"
                + "<text x=\"\(fmt(x + 3))\" y=\"\(fmt(y(depth) + frameHeight - 5))\">\(name.xmlEscaped)</text></g>\n"
        }
        // Pre-order, children most samples first, as a recursive walk would emit them.
        var toEmit: [(node: StackProfile.TreeNode, depth: Int, start: Int64, baseNode: StackProfile.TreeNode?)] =
            [(root, 0, 0, baseRoot)]
        var leftOut = 0
        while let (node, depth, start, baseNode) = toEmit.popLast() {
            emit(node, depth: depth, start: start, baseNode: baseNode)
            var offset = start
            var children: [(node: StackProfile.TreeNode, depth: Int, start: Int64, baseNode: StackProfile.TreeNode?)] = []
            for child in node.sortedChildren {
                if Double(child.samples) / Double(total) * width >= minimumWidth {
                    children.append((child, depth + 1, offset, child.frame.flatMap { baseNode?.child($0) }))
                } else {
                    leftOut += 1
                }
                offset += child.samples
            }
            toEmit.append(contentsOf: children.reversed())
        }
        let fullSubtitle = subtitle
            + (leftOut == 0 ? "" : "; \(leftOut) frames narrower than \(minimumWidth) px left out with what they call")
        return """
            <?xml version="1.0" standalone="no"?>
            <svg version="1.1" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" \
            xmlns="http://www.w3.org/2000/svg" data-total="\(total)" data-width="\(fmt(width))">
            <style>
            text { font-family: monospace; font-size: 12px; fill: #000; pointer-events: none; }
            .f:hover rect { stroke: #000; stroke-width: 0.5; cursor: pointer; }
            #title { font-size: 17px; text-anchor: middle; }
            #subtitle { font-size: 12px; text-anchor: middle; fill: #555; }
            .button { cursor: pointer; fill: #00c; }
            #details { fill: #000; }
            </style>
            <rect x="0" y="0" width="100%" height="100%" fill="#f8f8f8"/>
            <text id="title" x="\(fmt(width / 2))" y="22">\(title.xmlEscaped)</text>
            <text id="subtitle" x="\(fmt(width / 2))" y="40">\(fullSubtitle.xmlEscaped)</text>
            <text id="reset" class="button" x="10" y="22" visibility="hidden">Reset zoom</text>
            <text id="search" class="button" x="\(fmt(width - 110))" y="22">Search</text>
            <text id="matched" x="\(fmt(width - 110))" y="40"></text>
            <text id="details" x="10" y="\(fmt(height - 10))"> </text>
            <g id="frames">
            \(frames)</g>
            <script type="text/ecmascript"><![CDATA[
            \(Self.script)
            ]]></script>
            </svg>

            """
    }

    /// Warm colours for user frames, blue for the kernel's; off-CPU time in cold ones (as off-CPU flame graphs
    /// are drawn): violet for user frames, grey-blue for the kernel's.
    private func colour(_ name: String, kernel: Bool, root: Bool, offCPU: Bool) -> String {
        if root { return "rgb(200,200,200)" }
        var hash: UInt32 = 2166136261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
        let v = Double(hash % 1000) / 1000
        if offCPU && kernel { return "rgb(\(Int(110 + 40 * v)),\(Int(130 + 40 * v)),\(Int(170 + 40 * v)))" }
        if offCPU { return "rgb(\(Int(120 + 50 * v)),\(Int(90 + 40 * v)),\(Int(200 + 50 * v)))" }
        if kernel { return "rgb(\(Int(80 + 60 * v)),\(Int(150 + 60 * v)),\(Int(220 + 30 * v)))" }
        return "rgb(\(Int(205 + 50 * v)),\(Int(80 + 130 * v)),\(Int(40 + 30 * v)))"
    }

    /// White for no change, towards red for growth and blue for shrink, saturated at 5 points.
    private func differenceColour(_ points: Double) -> String {
        let strength = min(1, abs(points) / 5)
        let fade = Int(255 - 200 * strength)
        return points >= 0 ? "rgb(255,\(fade),\(fade))" : "rgb(\(fade),\(fade),255)"
    }

    private func fmt(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Zoom, reset, search and details, in plain ECMAScript inside the SVG.
    static let script = """
        var svg = document.documentElement;
        var total = +svg.getAttribute('data-total'), width = +svg.getAttribute('data-width');
        var frames = Array.prototype.slice.call(document.querySelectorAll('.f'));
        var details = document.getElementById('details'), reset = document.getElementById('reset');
        function place(g, x0, w0, minDepth) {
          var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w'), d = +g.getAttribute('data-d');
          var rect = g.querySelector('rect'), text = g.querySelector('text');
          var inside = x >= x0 && x + w <= x0 + w0 && (d >= minDepth || (x <= x0 && x + w >= x0 + w0));
          if (!inside) { g.style.display = 'none'; return; }
          g.style.display = '';
          var px = (x - x0) / w0 * width, pw = w / w0 * width;
          if (x < x0) { px = 0; pw = width; }
          rect.setAttribute('x', px.toFixed(2)); rect.setAttribute('width', pw.toFixed(2));
          text.setAttribute('x', (px + 3).toFixed(2));
          var label = g.querySelector('title').textContent.replace(/ \\(.*$/, '');
          var fit = Math.floor((pw - 6) / 7);
          text.textContent = fit < 3 ? '' : (label.length > fit ? label.substring(0, fit - 2) + '..' : label);
        }
        function zoom(g) {
          var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w'), d = +g.getAttribute('data-d');
          frames.forEach(function (f) { place(f, x, w, d); });
          reset.setAttribute('visibility', d > 0 ? 'visible' : 'hidden');
        }
        frames.forEach(function (g) {
          g.addEventListener('click', function () { zoom(g); });
          g.addEventListener('mouseover', function () { details.textContent = g.querySelector('title').textContent; });
          g.addEventListener('mouseout', function () { details.textContent = ' '; });
        });
        reset.addEventListener('click', function () { zoom(frames[0]); });
        document.getElementById('search').addEventListener('click', function () {
          var term = prompt('Search for (regular expression):', '');
          if (term === null) return;
          var re = new RegExp(term), matched = {}, sum = 0;
          frames.forEach(function (g) {
            var name = g.querySelector('title').textContent.replace(/ \\(.*$/, '').replace(/ \\[k\\]$/, '');
            var rect = g.querySelector('rect');
            if (!rect.hasAttribute('data-fill')) rect.setAttribute('data-fill', rect.getAttribute('fill'));
            if (term !== '' && re.test(name)) {
              rect.setAttribute('fill', 'rgb(230,0,230)');
              var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w');
              var covered = false;
              for (var k in matched) { var m = matched[k]; if (x >= m[0] && x + w <= m[0] + m[1]) covered = true; }
              if (!covered) { matched[x + ':' + w] = [x, w]; sum += w; }
            } else {
              rect.setAttribute('fill', rect.getAttribute('data-fill'));
            }
          });
          document.getElementById('matched').textContent =
            term === '' ? '' : 'Matched: ' + (100 * sum / total).toFixed(2) + '%';
        });
        zoom(frames[0]);
        """
}
