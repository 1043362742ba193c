"""Reports (報表) and the management dashboard: collection rates, aging, reasons,
performance, and the standard tables a property office prints."""
