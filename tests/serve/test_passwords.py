"""Password hashes: scrypt, salted, never matching a missing or malformed hash."""

from branchbook.serve.passwords import hash_password, verify


def test_a_hash_verifies_its_password_only():
    stored = hash_password("correct horse", n=2**10)
    assert stored.startswith("scrypt$1024$8$1$")
    assert verify("correct horse", stored)
    assert not verify("correct horse ", stored)
    assert hash_password("correct horse", n=2**10) != stored  # salted


def test_missing_or_malformed_hashes_never_match():
    for stored in (None, "", "plain-text-password", "md5$x$y", "scrypt$a$b$c$d$e"):
        assert not verify("plain-text-password", stored)
