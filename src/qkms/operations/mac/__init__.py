"""GenerateMac and VerifyMac (DESIGN §4a): HMAC with GENERATE_VERIFY_MAC keys."""

from qkms.operations.mac.generate_mac import generate_mac
from qkms.operations.mac.verify_mac import verify_mac

__all__ = ["generate_mac", "verify_mac"]
