"""SM2/SM3 against the standards' published examples, and against OpenSSL 3's own SM2.

* SM3, GB/T 32905-2016 annex A: "abc" and the 64-byte "abcd" x 16.
* SM2 signature, GM/T 0003.2-2012 annex A (= GB/T 32918.2 annex A): the Fp-256 test curve, ID
  ALICE123@YAHOO.COM, message "message digest", the fixed k: Z_A, and r, s exactly.
* SM2 signature on the recommended curve (GB/T 32918.5) with the default user ID of GM/T 0009
  (1234567812345678), the example of GM/T 0003.5: r, s exactly.
* OpenSSL 3 (`openssl pkeyutl -rawin -digest sm3`, distid 1234567812345678): its signatures
  verify here, ours verify there; the negative controls fail in both.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from orchestrator.trust import sm2

TEST_CURVE = {   # GM/T 0003.5 annex / GM/T 0003.2 annex A: the Fp-256 example curve
    "p": "8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3",
    "a": "787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498",
    "b": "63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A",
    "n": "8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7",
    "g": "421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D"
         "0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2",
}
MSG = b"message digest"


def test_sm3_vectors():
    assert sm2.sm3(b"abc").hex() == \
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm2.sm3(b"abcd" * 16).hex() == \
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert sm2.sm3(b"abd").hex() != sm2.sm3(b"abc").hex()   # negative control


def test_sm2_annex_a_example_on_the_test_curve():
    d = 0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263
    k = 0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F
    uid = b"ALICE123@YAHOO.COM"
    pub = sm2.public_of(d, TEST_CURVE)
    assert pub.hex().upper() == ("04" "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
                                 "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857")
    assert sm2.z_a(pub[1:], uid, TEST_CURVE).hex().upper() == \
        "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
    assert sm2.digest(pub[1:], MSG, uid, TEST_CURVE).hex().upper() == \
        "B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76"
    sig = sm2.sign(d, pub, MSG, uid, k=k, curve=TEST_CURVE)
    assert sig[:32].hex().upper() == "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
    assert sig[32:].hex().upper() == "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7"
    assert sm2.verify(pub, MSG, sig, uid, TEST_CURVE)
    # negative controls: another message, another ID, a flipped bit
    assert not sm2.verify(pub, b"message digesT", sig, uid, TEST_CURVE)
    assert not sm2.verify(pub, MSG, sig, b"1234567812345678", TEST_CURVE)
    assert not sm2.verify(pub, MSG, sig[:-1] + bytes([sig[-1] ^ 1]), uid, TEST_CURVE)


def test_sm2_example_on_the_recommended_curve_with_the_default_id():
    d = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
    k = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
    pub = sm2.public_of(d)
    assert pub.hex().upper() == ("04" "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
                                 "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
    assert sm2.z_a(pub[1:]).hex().upper() == \
        "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
    sig = sm2.sign(d, pub, MSG, k=k)
    assert sig.hex().upper() == ("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
                                 "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
    assert sm2.verify(pub, MSG, sig)
    assert not sm2.verify(pub, MSG + b" ", sig)


def test_verify_refuses_out_of_range_values_and_off_curve_keys():
    kp = sm2.generate()
    sig = sm2.sign(kp.private, kp.public, b"x")
    assert sm2.verify(kp.public, b"x", sig)
    n = int(sm2.SM2P256V1["n"], 16)
    assert not sm2.verify(kp.public, b"x", b"\0" * 32 + sig[32:])                  # r = 0
    assert not sm2.verify(kp.public, b"x", n.to_bytes(32, "big") + sig[32:])       # r = n
    assert not sm2.verify(kp.public, b"x", sig[:32] + b"\0" * 32)                  # s = 0
    assert not sm2.verify(kp.public, b"x", sig[:32] + n.to_bytes(32, "big"))       # s = n
    off = kp.public[:-1] + bytes([kp.public[-1] ^ 1])
    assert not sm2.verify(off, b"x", sig)
    assert not sm2.verify(kp.public, b"x", sig[:63])


def test_keys_whose_x_starts_with_zero_or_four_work():
    """gmssl's constructor lstrip("04")s the key; a key with x = 04.. or 0.. must still verify."""
    found = 0
    for _ in range(400):
        kp = sm2.generate()
        if kp.public[1:2].hex()[0] in "04":
            found += 1
            assert sm2.verify(kp.public, b"y", sm2.sign(kp.private, kp.public, b"y"))
        if found >= 3:
            break
    assert found >= 3


def test_der_and_pem_round_trip():
    kp = sm2.generate()
    sig = sm2.sign(kp.private, kp.public, b"z")
    assert sm2.raw_signature(sm2.der_signature(sig)) == sig
    assert sm2.public_from_pem(sm2.public_pem(kp.public)) == kp.public
    with pytest.raises(ValueError):
        sm2.raw_signature(sm2.der_signature(sig) + b"\0")


def _openssl() -> str:
    exe = shutil.which("openssl")
    assert exe, "openssl 3 is needed for the SM2 cross-check: apt-get install openssl"
    out = subprocess.run([exe, "list", "-public-key-algorithms"], capture_output=True, text=True)
    assert "sm2" in out.stdout.lower(), "this openssl has no SM2 (OpenSSL >= 3 has it)"
    return exe


def test_openssl_signatures_verify_here_and_ours_there(tmp_path):
    exe = _openssl()
    msg = tmp_path / "m.yaml"
    msg.write_bytes("approval_no: BZ-2026-0012\n名称: 教育服务门户\n".encode())
    distid = ["-pkeyopt", "distid:1234567812345678"]
    # OpenSSL's key and signature -> our verify
    subprocess.run([exe, "genpkey", "-algorithm", "SM2", "-out", tmp_path / "k.pem"], check=True,
                   capture_output=True)
    subprocess.run([exe, "pkeyutl", "-sign", "-inkey", tmp_path / "k.pem", "-rawin", "-digest",
                    "sm3", *distid, "-in", msg, "-out", tmp_path / "s.der"], check=True)
    der_pub = subprocess.run([exe, "pkey", "-in", tmp_path / "k.pem", "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
    pem_pub = subprocess.run([exe, "pkey", "-in", tmp_path / "k.pem", "-pubout"],
                             check=True, capture_output=True, text=True).stdout
    pub = sm2.public_from_pem(pem_pub)
    assert pub == der_pub[-65:]
    sig = sm2.raw_signature((tmp_path / "s.der").read_bytes())
    assert sm2.verify(pub, msg.read_bytes(), sig)
    assert not sm2.verify(pub, msg.read_bytes() + b"\n", sig)       # negative control
    # our key and signature -> openssl verify
    kp = sm2.generate()
    (tmp_path / "our.pem").write_text(sm2.public_pem(kp.public))
    (tmp_path / "our.der").write_bytes(sm2.der_signature(sm2.sign(kp.private, kp.public,
                                                                  msg.read_bytes())))
    check = [exe, "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "our.pem", "-rawin",
             "-digest", "sm3", *distid, "-in", msg, "-sigfile", tmp_path / "our.der"]
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode == 0 and "Verified Successfully" in r.stdout, r.stdout + r.stderr
    msg.write_bytes(msg.read_bytes() + b"# altered\n")
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode != 0                                          # negative control
