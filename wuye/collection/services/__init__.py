"""Every write of collection, one module per topic (policies, contacts, cases, the run).
Each public function is one transaction and writes its audit row."""
