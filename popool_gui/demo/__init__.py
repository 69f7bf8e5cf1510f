"""The embedded demo portal: a Coupa-like web server on 127.0.0.1 with made-up purchase orders.

`server.py` serves (DemoPortal, DemoKnobs, demo_portal, render_delay_ms), `data.py` says what each PO holds,
`skins.py` where each skin puts it, `pages.py` (Coupa) and `other_pages.py` (another portal) render it,
`list_script.py` is the script that shows a page's attachment list, `files.py` builds the attachments' bytes,
`sample.py` writes sample input, `cli.py` is `popool portal`.
"""
