"""QKMS: a self-hostable key management service speaking the AWS KMS wire protocol."""

__all__ = ["__version__"]

__version__ = "0.1.0"
