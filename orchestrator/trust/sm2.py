"""SM2 signatures with SM3 (GB/T 32918.2 / GM/T 0003.2; SM3: GB/T 32905), over ``gmssl``.

``gmssl`` (PyPI, pure Python) does the curve arithmetic and SM3; this module adds what a
signature scheme needs around it and ``gmssl`` lacks or gets wrong:

* the user ID hash Z_A computed here for any ID (``gmssl`` hard-codes the default one) —
  default ``1234567812345678``, GM/T 0009's;
* ``k`` from ``secrets`` (``gmssl``'s ``func.random_hex`` uses ``random.choice``, not a CSPRNG);
* the public key handed over unparsed (``CryptSM2.__init__`` does ``lstrip("04")``, which eats
  the leading zeros and fours of an x coordinate that starts with them);
* ``r`` and ``s`` checked to lie in [1, n-1] and the public key to be on the curve before
  verifying (``gmssl`` checks neither).

Signatures are ``r || s``, 64 bytes big-endian; public keys ``04 || x || y`` (65 bytes) or the
SubjectPublicKeyInfo PEM that OpenSSL reads (id-ecPublicKey with the SM2 curve OID).
Test vectors: tests/unit/test_trust_sm2.py (GM/T 0003.2 annex A; GB/T 32905 annex A).
"""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

DEFAULT_USER_ID = b"1234567812345678"

# The recommended curve, GB/T 32918.5 (sm2p256v1).
SM2P256V1 = {
    "p": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
    "a": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "b": "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "n": "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
    "g": "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
         "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
}

# SubjectPublicKeyInfo prefix: SEQ { SEQ { id-ecPublicKey, 1.2.156.10197.1.301 }, BIT STRING }.
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


def sm3(data: bytes) -> bytes:
    from gmssl import sm3 as _sm3
    return bytes.fromhex(_sm3.sm3_hash(list(data)))


def _engine(curve: dict, private_hex: str = "", public_hex: str = ""):
    from gmssl.sm2 import CryptSM2
    eng = CryptSM2(private_key=private_hex, public_key="", ecc_table={k: v.lower() if k == "g"
                                                                       else v
                                                                       for k, v in curve.items()})
    eng.public_key = public_hex.lower()   # x || y, 128 hex digits, never lstrip'ed
    return eng


def _on_curve(point: bytes, curve: dict) -> bool:
    if len(point) != 64:
        return False
    p, a, b = (int(curve[k], 16) for k in ("p", "a", "b"))
    x, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
    return x < p and y < p and (y * y - (x * x * x + a * x + b)) % p == 0


def z_a(public: bytes, user_id: bytes = DEFAULT_USER_ID, curve: dict = SM2P256V1) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A); ``public`` is x || y."""
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + bytes.fromhex(curve["a"]) + bytes.fromhex(curve["b"])
               + bytes.fromhex(curve["g"]) + public)


def digest(public: bytes, message: bytes, user_id: bytes = DEFAULT_USER_ID,
           curve: dict = SM2P256V1) -> bytes:
    """e = SM3(Z_A || M)."""
    return sm3(z_a(public, user_id, curve) + message)


def _xy(public: bytes) -> bytes:
    if len(public) == 65 and public[0] == 4:
        return public[1:]
    if len(public) == 64:
        return public
    raise ValueError("an SM2 public key is 04 || x || y (65 bytes) or x || y (64 bytes)")


def sign(private: int, public: bytes, message: bytes, user_id: bytes = DEFAULT_USER_ID,
         k: int | None = None, curve: dict = SM2P256V1) -> bytes:
    """The signature r || s (64 bytes) of ``message``. ``k`` only for test vectors."""
    pub = _xy(public)
    n = int(curve["n"], 16)
    e = digest(pub, message, user_id, curve)
    eng = _engine(curve, "%064x" % private, pub.hex())
    while True:
        kk = k if k is not None else secrets.randbelow(n - 1) + 1
        sig = eng.sign(e, "%064x" % kk)
        if sig is not None:
            return bytes.fromhex(sig)
        if k is not None:
            raise ValueError("this k gives r = 0, r + k = n or s = 0")


def verify(public: bytes, message: bytes, signature: bytes, user_id: bytes = DEFAULT_USER_ID,
           curve: dict = SM2P256V1) -> bool:
    try:
        pub = _xy(public)
    except ValueError:
        return False
    if len(signature) != 64 or not _on_curve(pub, curve):
        return False
    n = int(curve["n"], 16)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < n and 1 <= s < n):
        return False
    e = digest(pub, message, user_id, curve)
    return bool(_engine(curve, "", pub.hex()).verify(signature.hex(), e))


@dataclass(frozen=True)
class KeyPair:
    private: int
    public: bytes   # 04 || x || y


def public_of(private: int, curve: dict = SM2P256V1) -> bytes:
    eng = _engine(curve)
    return b"\x04" + bytes.fromhex(eng._kg(private, curve["g"].lower()))


def generate(curve: dict = SM2P256V1) -> KeyPair:
    n = int(curve["n"], 16)
    d = secrets.randbelow(n - 2) + 1     # d in [1, n-2]
    return KeyPair(d, public_of(d, curve))


def public_pem(public: bytes) -> str:
    """The SubjectPublicKeyInfo PEM OpenSSL reads (``openssl pkey -pubin``)."""
    der = _SPKI_PREFIX + b"\x04" + _xy(public)
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def public_from_pem(pem: str) -> bytes:
    """04 || x || y from a SubjectPublicKeyInfo PEM of an SM2 key; ValueError otherwise."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError:
        raise ValueError("not base64 PEM") from None
    if len(der) != len(_SPKI_PREFIX) + 65 or not der.startswith(_SPKI_PREFIX):
        raise ValueError("not an SM2 public key (SubjectPublicKeyInfo with the SM2 curve)")
    return der[len(_SPKI_PREFIX):]


def der_signature(signature: bytes) -> bytes:
    """r || s as the DER SEQUENCE { INTEGER r, INTEGER s } OpenSSL writes and reads."""
    def integer(v: bytes) -> bytes:
        v = v.lstrip(b"\0") or b"\0"
        if v[0] & 0x80:
            v = b"\0" + v
        return b"\x02" + bytes([len(v)]) + v
    body = integer(signature[:32]) + integer(signature[32:])
    return b"\x30" + bytes([len(body)]) + body


def raw_signature(der: bytes) -> bytes:
    """r || s from a DER signature; ValueError when malformed."""
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError("not a DER SM2 signature")
    out, i = b"", 2
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER SM2 signature")
        ln = der[i + 1]
        v = der[i + 2:i + 2 + ln]
        if len(v) != ln or ln > 33:
            raise ValueError("not a DER SM2 signature")
        out += int.from_bytes(v, "big").to_bytes(32, "big")
        i += 2 + ln
    if i != len(der):
        raise ValueError("trailing bytes after the DER SM2 signature")
    return out
