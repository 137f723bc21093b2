// Test Sign/Verify on the key page: QKMS signs a message (Sign, MessageType RAW) and the
// browser verifies the signature itself with WebCrypto ECDSA against GetPublicKey's key, then
// asks QKMS to verify it too (Verify). Only ECC_NIST_P256/P384 SIGN_VERIFY keys: WebCrypto
// has those curves. KMS returns DER (ECDSA-Sig-Value); WebCrypto wants raw r||s, so the
// signature is converted here.

import { announce, errorBox, h } from "./dom.js";
import { callKms } from "./kms.js";
import { base64FromBytes, bytesFromBase64 } from "./ecdh.js";

const SIGNABLE = {
  ECC_NIST_P256: { namedCurve: "P-256", hash: "SHA-256", algorithm: "ECDSA_SHA_256", size: 32 },
  ECC_NIST_P384: { namedCurve: "P-384", hash: "SHA-384", algorithm: "ECDSA_SHA_384", size: 48 },
};

/** Whether the key page offers the panel for this key. */
export function canTestSigning(meta) {
  return meta.KeyUsage === "SIGN_VERIFY" && meta.KeySpec in SIGNABLE;
}

/** What a key can do, as DescribeKey lists it: [label, algorithms] rows for the metadata list. */
export function algorithmRows(meta) {
  return [
    ["EncryptionAlgorithms", meta.EncryptionAlgorithms],
    ["SigningAlgorithms", meta.SigningAlgorithms],
    ["MacAlgorithms", meta.MacAlgorithms],
    ["KeyAgreementAlgorithms", meta.KeyAgreementAlgorithms],
    ["EncapsulationAlgorithms", meta.EncapsulationAlgorithms],
  ].filter(([, list]) => Array.isArray(list) && list.length)
    .map(([name, list]) => [name, list.join(", ")]);
}

/** DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) to raw r||s of `size` bytes each. */
export function rawFromDer(der, size) {
  let at = 0;
  const take = (tag) => {
    if (der[at++] !== tag) throw new Error("not a DER ECDSA signature");
    let length = der[at++];
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = (length << 8) | der[at++];
    }
    const body = der.subarray(at, at + length);
    at += length;
    return body;
  };
  const sequence = take(0x30);
  if (at !== der.length) throw new Error("trailing bytes after the signature");
  at = der.length - sequence.length;
  const out = new Uint8Array(2 * size);
  for (const half of [0, 1]) {
    let integer = take(0x02);
    while (integer.length > size && integer[0] === 0) integer = integer.subarray(1);
    if (integer.length > size) throw new Error("signature integer too long for the curve");
    out.set(integer, (half + 1) * size - integer.length);
  }
  return out;
}

export function renderSignPanel(ctx, keyId, meta) {
  const curve = SIGNABLE[meta.KeySpec];
  const message = h("textarea", { id: "sign-message", rows: "3", spellcheck: "false" }, "Hello from the QKMS console");
  const tamper = h("input", { type: "checkbox", id: "sign-tamper" });
  const run = h("button", { type: "submit", id: "sign-run" }, "Sign and verify");
  const results = h("div", { id: "sign-results", "aria-live": "polite", "aria-busy": "false" });

  async function onSubmit(event) {
    event.preventDefault();
    run.disabled = true;
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(h("p", {}, "Signing…"));
    try {
      await test(ctx, keyId, curve, new TextEncoder().encode(message.value), tamper.checked, results);
    } finally {
      run.disabled = false;
      results.setAttribute("aria-busy", "false");
    }
  }

  return h("section", { "aria-labelledby": "sign-heading", class: "card", id: "sign-panel" },
    h("h2", { id: "sign-heading" }, "Test Sign/Verify"),
    h("p", { class: "hint" }, `QKMS signs with ${curve.algorithm} (MessageType RAW); this browser verifies the signature with WebCrypto, then QKMS's Verify checks it too.`),
    h("form", { id: "sign-form", class: "stack", onsubmit: onSubmit },
      h("div", { class: "field" }, h("label", { for: "sign-message" }, "Message (UTF-8)"), message),
      h("div", { class: "choice" }, tamper, h("label", { for: "sign-tamper" }, "Flip one bit of the message before verifying (expect invalid)")),
      h("div", { class: "actions" }, run)),
    results);
}

async function test(ctx, keyId, curve, messageBytes, tamper, results) {
  let signature;
  let publicKey;
  try {
    ({ data: signature } = await callKms(ctx.session, "Sign", {
      KeyId: keyId, Message: base64FromBytes(messageBytes), MessageType: "RAW", SigningAlgorithm: curve.algorithm,
    }));
    ({ data: publicKey } = await callKms(ctx.session, "GetPublicKey", { KeyId: keyId }));
  } catch (error) {
    results.replaceChildren(errorBox(error, error.exchange ? error.exchange.operation : "Sign"));
    return;
  }
  const checked = new Uint8Array(messageBytes);
  if (tamper) {
    if (checked.length === 0) throw new Error("an empty message has no bit to flip");
    checked[0] ^= 1;
  }
  const der = bytesFromBase64(signature.Signature);
  const key = await crypto.subtle.importKey("spki", bytesFromBase64(publicKey.PublicKey),
    { name: "ECDSA", namedCurve: curve.namedCurve }, false, ["verify"]);
  const local = await crypto.subtle.verify({ name: "ECDSA", hash: curve.hash }, key, rawFromDer(der, curve.size), checked);
  let remote;
  try {
    const { data } = await callKms(ctx.session, "Verify", {
      KeyId: keyId, Message: base64FromBytes(checked), MessageType: "RAW",
      SigningAlgorithm: curve.algorithm, Signature: signature.Signature,
    });
    remote = data.SignatureValid === true ? "valid" : "invalid";
  } catch (error) {
    if (error.code !== "KMSInvalidSignatureException") {
      results.replaceChildren(errorBox(error, "Verify"));
      return;
    }
    remote = "invalid";
  }
  const verdict = (id, label, value) => h("div", { class: "row" },
    h("span", {}, label + ": "), h("strong", { id, class: value === "valid" ? "ok" : "error-code" }, value));
  results.replaceChildren(
    h("p", { class: "hint" }, `Signature (DER, ${der.length} bytes): `, h("span", { class: "mono break", id: "sign-signature" }, signature.Signature)),
    verdict("sign-local", "WebCrypto (this browser)", local ? "valid" : "invalid"),
    verdict("sign-remote", "QKMS Verify", remote));
  announce(`Signature ${local ? "valid" : "invalid"} in this browser, ${remote} in QKMS.`);
}
