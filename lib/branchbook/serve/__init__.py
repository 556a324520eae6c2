"""The served portal: the reports folder, each request authorised against the access list
(:mod:`.app`), with the built-in login's password hashes (:mod:`.passwords`)."""

from .app import build_app, serve

__all__ = ["build_app", "serve"]
