"""The embedded demo portal: a Coupa-like web server on 127.0.0.1 with made-up purchase orders.

`server.py` serves (DemoPortal, DemoKnobs, demo_portal), `data.py` says what each PO holds, `pages.py` renders
it, `files.py` builds the attachments' bytes, `sample.py` writes sample input, `cli.py` is `popool portal`.
"""
