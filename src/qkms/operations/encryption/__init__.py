"""The symmetric data plane (DESIGN §4a): one module per AWS operation."""

from qkms.operations.encryption.decrypt import decrypt
from qkms.operations.encryption.encrypt import encrypt
from qkms.operations.encryption.generate_data_key import generate_data_key
from qkms.operations.encryption.generate_data_key_pair import generate_data_key_pair
from qkms.operations.encryption.generate_data_key_pair_without_plaintext import (
    generate_data_key_pair_without_plaintext,
)
from qkms.operations.encryption.generate_data_key_without_plaintext import (
    generate_data_key_without_plaintext,
)
from qkms.operations.encryption.generate_random import generate_random
from qkms.operations.encryption.re_encrypt import re_encrypt

__all__ = [
    "decrypt",
    "encrypt",
    "generate_data_key",
    "generate_data_key_pair",
    "generate_data_key_pair_without_plaintext",
    "generate_data_key_without_plaintext",
    "generate_random",
    "re_encrypt",
]
