"""A software passkey authenticator for tests without a browser.

It makes P-256 credentials with 'none' attestation and answers creation and
request options (py_webauthn's JSON) the way a browser's `toJSON()` would, with
switches to misbehave: a wrong origin, no user verification, a sign count that
goes backwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

USER_PRESENT, USER_VERIFIED, ATTESTED = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    """Encode bytes as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One passkey held by the authenticator."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: str
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """A passkey authenticator in pure Python."""

    origin: str = "http://localhost"
    user_verified: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _flags(self) -> int:
        return USER_PRESENT | (USER_VERIFIED if self.user_verified else 0)

    def create(
        self, options: str | dict, origin: str | None = None, credential_id: bytes | None = None
    ) -> dict:
        """Answer navigator.credentials.create() for the given creation options."""
        opts = json.loads(options) if isinstance(options, str) else options
        rp_id = opts["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        cred = Credential(credential_id or os.urandom(32), key, rp_id, opts["user"]["id"])
        self.credentials.append(cred)
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags() | ATTESTED])
            + struct.pack(">I", 0)
            + bytes(16)
            + struct.pack(">H", 32)
            + cred.credential_id
            + cose
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64u(cred.credential_id),
            "rawId": b64u(cred.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(
                    self._client_data("webauthn.create", opts["challenge"], origin)
                ),
                "attestationObject": b64u(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: str | dict,
        credential: Credential | None = None,
        origin: str | None = None,
        sign_count: int | None = None,
        user_handle: str | None = None,
    ) -> dict:
        """Answer navigator.credentials.get() with the newest (or the given) credential."""
        opts = json.loads(options) if isinstance(options, str) else options
        cred = credential or self.credentials[-1]
        cred.sign_count = cred.sign_count + 1 if sign_count is None else sign_count
        auth_data = (
            hashlib.sha256(opts["rpId"].encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", cred.sign_count)
        )
        client_data = self._client_data("webauthn.get", opts["challenge"], origin)
        signature = cred.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64u(cred.credential_id),
            "rawId": b64u(cred.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": user_handle if user_handle is not None else cred.user_handle,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
