import TprofCLI

CommandLineTool.main(Report.self, name: "tprof-report",
                     arguments: TimelineReport.rewritingChartFile(ArgumentBytes.arguments()))
