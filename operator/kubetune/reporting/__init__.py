"""The trial side: the metrics line protocol, the reporter sidecar and the tiny trainer
SDK. Standard library only, so it runs in any trial image.
"""

from kubetune.reporting.protocol import MetricReport, ParseError, parse_json_line, parse_line
from kubetune.reporting.sdk import report

__all__ = ["MetricReport", "ParseError", "parse_json_line", "parse_line", "report"]
