"""Where each target and milestone stands: series, aggregation, rules, reasons."""
