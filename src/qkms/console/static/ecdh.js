// The browser's side of the key agreement: ephemeral ECDH and X25519 key pairs with WebCrypto,
// and reading a pasted peer public key (PEM, base64 DER or hex; SubjectPublicKeyInfo, a raw EC
// point or a raw RFC 7748 X25519/X448 key).

import { toHex } from "./sigv4.js";

// KMS key spec -> WebCrypto curve (null: WebCrypto lacks it), shared-secret size, curve OID.
// `xdh` curves (RFC 7748) are their own WebCrypto algorithm, not an ECDH namedCurve; their
// `coordinate` is the raw public key's length and `oid` the SPKI algorithm (RFC 8410).
export const CURVES = {
  ECC_NIST_P256: { label: "P-256 (secp256r1)", webCrypto: "P-256", bits: 256, coordinate: 32, oid: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] },
  ECC_NIST_P384: { label: "P-384 (secp384r1)", webCrypto: "P-384", bits: 384, coordinate: 48, oid: [0x2b, 0x81, 0x04, 0x00, 0x22] },
  // P-521's x-coordinate is 521 bits; deriveBits wants a multiple of 8, so 66 bytes = 528.
  ECC_NIST_P521: { label: "P-521 (secp521r1)", webCrypto: "P-521", bits: 528, coordinate: 66, oid: [0x2b, 0x81, 0x04, 0x00, 0x23] },
  ECC_SECG_P256K1: { label: "secp256k1", webCrypto: null, bits: 256, coordinate: 32, oid: [0x2b, 0x81, 0x04, 0x00, 0x0a] },
  // Chromium's WebCrypto has X25519 (since version 133) but no X448.
  ECC_X25519: { label: "X25519", webCrypto: "X25519", xdh: true, bits: 256, coordinate: 32, oid: [0x2b, 0x65, 0x6e] },
  ECC_X448: { label: "X448", webCrypto: null, xdh: true, bits: 448, coordinate: 56, oid: [0x2b, 0x65, 0x6f] },
};
const EC_PUBLIC_KEY_OID = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

export function canGenerate(keySpec) {
  return Boolean(CURVES[keySpec] && CURVES[keySpec].webCrypto);
}

/** The WebCrypto algorithm for generateKey/importKey on the key's curve. */
function algorithmOf(curve) {
  return curve.xdh ? { name: curve.webCrypto } : { name: "ECDH", namedCurve: curve.webCrypto };
}

export function base64FromBytes(bytes) {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function bytesFromBase64(text) {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function pemFromDer(der, label = "PUBLIC KEY") {
  const lines = base64FromBytes(der).match(/.{1,64}/g) || [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A fresh ECDH (or X25519) key pair on the key's curve; the private key cannot be exported. */
export async function generateEphemeral(keySpec) {
  const curve = CURVES[keySpec];
  if (!curve || !curve.webCrypto) throw new Error(`WebCrypto cannot generate ${keySpec} keys.`);
  const pair = await crypto.subtle.generateKey(algorithmOf(curve), false, ["deriveBits"]);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  return { privateKey: pair.privateKey, publicKeyB64: base64FromBytes(spki) };
}

/** This side's shared secret (hex): ECDH/X25519 of our private key and the KMS key's public key. */
export async function deriveOwnSide(privateKey, kmsPublicKeyB64, keySpec) {
  const curve = CURVES[keySpec];
  const algorithm = algorithmOf(curve);
  const kmsKey = await crypto.subtle.importKey("spki", bytesFromBase64(kmsPublicKeyB64), algorithm, false, []);
  const bits = await crypto.subtle.deriveBits({ name: algorithm.name, public: kmsKey }, privateKey, curve.bits);
  return toHex(bits);
}

/** Lower-case hex without separators, or null when `text` is not hex. */
export function normalizeHex(text) {
  const compact = text.trim().replace(/^0x/i, "").replace(/[\s:]/g, "");
  return /^([0-9a-fA-F]{2})+$/.test(compact) ? compact.toLowerCase() : null;
}

function derLength(n) {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

function der(tag, content) {
  return [tag, ...derLength(content.length), ...content];
}

/** SubjectPublicKeyInfo around a raw EC point (or raw X25519/X448 key) of the key's curve. */
export function spkiFromPoint(point, keySpec) {
  const curve = CURVES[keySpec];
  // RFC 8410 §3: the X25519/X448 AlgorithmIdentifier is the OID alone, with no parameters.
  const algorithm = curve.xdh
    ? der(0x30, der(0x06, curve.oid))
    : der(0x30, [...der(0x06, EC_PUBLIC_KEY_OID), ...der(0x06, curve.oid)]);
  return new Uint8Array(der(0x30, [...algorithm, ...der(0x03, [0x00, ...point])]));
}

function isRawPoint(bytes, keySpec) {
  const n = CURVES[keySpec] ? CURVES[keySpec].coordinate : 0;
  if (CURVES[keySpec] && CURVES[keySpec].xdh) return bytes.length === n;
  return (bytes[0] === 0x04 && bytes.length === 1 + 2 * n) ||
    ((bytes[0] === 0x02 || bytes[0] === 0x03) && bytes.length === 1 + n);
}

/** A raw X25519/X448 public key in hex can start with any byte: recognise it by its length. */
function isRawXdhHex(hex, keySpec) {
  const curve = CURVES[keySpec];
  return Boolean(curve && curve.xdh && hex.length === 2 * curve.coordinate);
}

/**
 * The PublicKey member (base64) for a pasted peer key, and how it was read. Text that is none of
 * the known forms is sent as typed, so the API itself says what is wrong with it
 * (InvalidPublicKeyException) instead of the console guessing.
 */
export function readPeerPublicKey(text, keySpec) {
  const trimmed = text.trim();
  let bytes = null;
  let form = "";
  const pem = trimmed.match(/^-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----$/);
  const hex = normalizeHex(trimmed);
  const compact = trimmed.replace(/\s/g, "");
  try {
    if (pem) {
      bytes = bytesFromBase64(pem[2].replace(/\s/g, ""));
      form = "PEM";
    } else if (hex && (/^(30|02|03|04)/.test(hex) || isRawXdhHex(hex, keySpec))) {
      bytes = Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
      form = "hex";
    } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0) {
      bytes = bytesFromBase64(compact);
      form = "base64";
    }
  } catch (_) {
    bytes = null;
  }
  if (bytes === null) {
    return { publicKeyB64: compact, form: "unrecognised text, sent as typed" };
  }
  if (isRawPoint(bytes, keySpec)) {
    return {
      publicKeyB64: base64FromBytes(spkiFromPoint(bytes, keySpec)),
      form: `${form} raw ${CURVES[keySpec].xdh ? "public key" : "EC point"}, wrapped in a SubjectPublicKeyInfo for ${CURVES[keySpec].label}`,
    };
  }
  return { publicKeyB64: base64FromBytes(bytes), form: `${form} DER (SubjectPublicKeyInfo)` };
}
