"""roccogen: typed Server-Sent Events servers and clients from a spec."""

__version__ = "0.1.0"
