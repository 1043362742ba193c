"""Collection (催收): dunning policies and runs, arrears cases, the contact log, the
collector's workbench; installments, disputes, formal demands and the legal file."""
