// The browser's side of the key agreement: ephemeral ECDH key pairs with WebCrypto, and reading
// a pasted peer public key (PEM, base64 DER or hex; SubjectPublicKeyInfo or a raw EC point).

import { toHex } from "./sigv4.js";

// KMS key spec -> WebCrypto curve (null: WebCrypto lacks it), shared-secret size, curve OID.
export const CURVES = {
  ECC_NIST_P256: { label: "P-256 (secp256r1)", webCrypto: "P-256", bits: 256, coordinate: 32, oid: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] },
  ECC_NIST_P384: { label: "P-384 (secp384r1)", webCrypto: "P-384", bits: 384, coordinate: 48, oid: [0x2b, 0x81, 0x04, 0x00, 0x22] },
  // P-521's x-coordinate is 521 bits; deriveBits wants a multiple of 8, so 66 bytes = 528.
  ECC_NIST_P521: { label: "P-521 (secp521r1)", webCrypto: "P-521", bits: 528, coordinate: 66, oid: [0x2b, 0x81, 0x04, 0x00, 0x23] },
  ECC_SECG_P256K1: { label: "secp256k1", webCrypto: null, bits: 256, coordinate: 32, oid: [0x2b, 0x81, 0x04, 0x00, 0x0a] },
};
const EC_PUBLIC_KEY_OID = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

export function canGenerate(keySpec) {
  return Boolean(CURVES[keySpec] && CURVES[keySpec].webCrypto);
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

/** A fresh ECDH key pair on the key's curve; the private key cannot be exported. */
export async function generateEphemeral(keySpec) {
  const curve = CURVES[keySpec];
  if (!curve || !curve.webCrypto) throw new Error(`WebCrypto cannot generate ${keySpec} keys.`);
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: curve.webCrypto }, false, ["deriveBits"]);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  return { privateKey: pair.privateKey, publicKeyB64: base64FromBytes(spki) };
}

/** This side's shared secret (hex): ECDH of our private key with the KMS key's public key. */
export async function deriveOwnSide(privateKey, kmsPublicKeyB64, keySpec) {
  const curve = CURVES[keySpec];
  const kmsKey = await crypto.subtle.importKey(
    "spki", bytesFromBase64(kmsPublicKeyB64), { name: "ECDH", namedCurve: curve.webCrypto }, false, []);
  const bits = await crypto.subtle.deriveBits({ name: "ECDH", public: kmsKey }, privateKey, curve.bits);
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

/** SubjectPublicKeyInfo around a raw EC point of the key's curve. */
export function spkiFromPoint(point, keySpec) {
  const algorithm = der(0x30, [...der(0x06, EC_PUBLIC_KEY_OID), ...der(0x06, CURVES[keySpec].oid)]);
  return new Uint8Array(der(0x30, [...algorithm, ...der(0x03, [0x00, ...point])]));
}

function isRawPoint(bytes, keySpec) {
  const n = CURVES[keySpec] ? CURVES[keySpec].coordinate : 0;
  return (bytes[0] === 0x04 && bytes.length === 1 + 2 * n) ||
    ((bytes[0] === 0x02 || bytes[0] === 0x03) && bytes.length === 1 + n);
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
    } else if (hex && /^(30|02|03|04)/.test(hex)) {
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
      form: `${form} raw EC point, wrapped in a SubjectPublicKeyInfo for ${CURVES[keySpec].label}`,
    };
  }
  return { publicKeyB64: base64FromBytes(bytes), form: `${form} DER (SubjectPublicKeyInfo)` };
}
