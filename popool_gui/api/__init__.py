"""API mode: the Coupa Core REST API instead of a browser (no Selenium, no Qt).

`access` holds what a run needs to reach the API, `credentials` the client secret in the OS credential store,
`client` the one HTTP client with its token and rate limiter, `attachments` what a PO holds at every level,
`po_job` one PO from lookup to verified files, `lane` the worker process that speaks the pool's protocol,
`preflight` the checks before a run (and the Settings dialog's "Test connection"), `mode` the run mode.
"""
