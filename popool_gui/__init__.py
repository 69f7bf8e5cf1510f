"""popool: bulk-download purchase-order attachments with a persistent pool of browser workers."""

__version__ = "0.1.0"
