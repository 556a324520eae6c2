"""Password hashes for the portal's built-in login: scrypt, salted, compared in constant time.

A hash reads ``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and key in base64) and is what
the access list stores as ``password_hash``; ``branchbook hash-password`` makes one.
The password itself is never stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(key).decode()}"


_DUMMY = None


def verify(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; a missing or malformed hash never matches
    and costs the same time as a real check (no hint that a user exists)."""
    global _DUMMY
    try:
        scheme, n, r, p, salt, key = (stored or "").split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        n, r, p = int(n), int(r), int(p)
        salt, key = base64.b64decode(salt), base64.b64decode(key)
        ok = True
    except ValueError:
        _DUMMY = _DUMMY or hash_password("-")
        _, n, r, p, salt, key = _DUMMY.split("$")
        n, r, p, salt, key = int(n), int(r), int(p), base64.b64decode(salt), b""
        ok = False
    got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return hmac.compare_digest(got, key) and ok
