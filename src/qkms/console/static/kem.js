// Test Encapsulate/Decapsulate on an ML-KEM key's page. WebCrypto has no ML-KEM, so both halves
// run in QKMS: Encapsulate makes a fresh shared secret and the ciphertext that carries it
// (SharedSecretCiphertextBlob), Decapsulate recovers a secret from that ciphertext, and this
// browser compares the two. Flipping one bit of the ciphertext first shows FIPS 203's implicit
// rejection: Decapsulate answers with a different, pseudo-random secret and no error.

import { announce, errorBox, h } from "./dom.js";
import { callKms } from "./kms.js";
import { base64FromBytes, bytesFromBase64 } from "./ecdh.js";
import { maskedValue, revealer } from "./secret.js";
import { toHex } from "./sigv4.js";

const ALGORITHM = "ML_KEM";

/** Whether the key page offers the panel for this key. */
export function canTestEncapsulation(meta) {
  return meta.KeyUsage === "ENCAPSULATE_DECAPSULATE";
}

export function renderKemPanel(ctx, keyId, meta) {
  const tamper = h("input", { type: "checkbox", id: "kem-tamper" });
  const run = h("button", { type: "submit", id: "kem-run" }, "Encapsulate and decapsulate");
  const results = h("div", { id: "kem-results", "aria-live": "polite", "aria-busy": "false" });

  async function onSubmit(event) {
    event.preventDefault();
    run.disabled = true;
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(h("p", {}, "Encapsulating…"));
    try {
      await test(ctx, keyId, tamper.checked, results);
    } finally {
      run.disabled = false;
      results.setAttribute("aria-busy", "false");
    }
  }

  return h("section", { "aria-labelledby": "kem-heading", class: "card", id: "kem-panel" },
    h("h2", { id: "kem-heading" }, "Test Encapsulate/Decapsulate"),
    h("p", { class: "hint" }, `WebCrypto has no ML-KEM, so QKMS does both halves with this ${meta.KeySpec} key: ` +
      "Encapsulate makes a shared secret and its ciphertext, Decapsulate recovers a secret from that ciphertext, " +
      "and this browser compares the two."),
    h("form", { id: "kem-form", class: "stack", onsubmit: onSubmit },
      h("div", { class: "choice" }, tamper, h("label", { for: "kem-tamper" },
        "Flip one bit of the ciphertext before Decapsulate (expect a different secret and no error: implicit rejection)")),
      h("div", { class: "actions" }, run)),
    results);
}

async function test(ctx, keyId, tamper, results) {
  let encapsulated;
  try {
    ({ data: encapsulated } = await callKms(ctx.session, "Encapsulate", { KeyId: keyId, EncapsulationAlgorithm: ALGORITHM }));
  } catch (error) {
    results.replaceChildren(errorBox(error, "Encapsulate"));
    announce(`Encapsulate failed: ${error.code || "Error"}`);
    return;
  }
  const ciphertext = bytesFromBase64(encapsulated.SharedSecretCiphertextBlob);
  const sent = new Uint8Array(ciphertext);
  // The lowest bit of the first byte: any single bit would do, the length stays right.
  if (tamper) sent[0] ^= 1;
  const sentB64 = base64FromBytes(sent);
  const ciphertextRows = [
    h("dt", {}, "SharedSecretCiphertextBlob from Encapsulate (base64, ",
      h("span", { id: "kem-ciphertext-length" }, `${ciphertext.length} bytes`), ")"),
    h("dd", { id: "kem-ciphertext", class: "mono break blob", tabindex: "0" }, encapsulated.SharedSecretCiphertextBlob),
    tamper ? [
      h("dt", {}, "Ciphertext sent to Decapsulate (bit 0 of byte 0 flipped, base64)"),
      h("dd", { id: "kem-ciphertext-sent", class: "mono break blob", tabindex: "0" }, sentB64),
    ] : null,
  ];

  let decapsulated;
  try {
    ({ data: decapsulated } = await callKms(ctx.session, "Decapsulate", {
      KeyId: keyId, SharedSecretCiphertextBlob: sentB64, EncapsulationAlgorithm: ALGORITHM,
    }));
  } catch (error) {
    results.replaceChildren(errorBox(error, "Decapsulate"), h("dl", { class: "secrets" }, ciphertextRows));
    announce(`Decapsulate failed: ${error.code || "Error"}`);
    return;
  }

  const encapsulatedHex = toHex(bytesFromBase64(encapsulated.SharedSecret));
  const decapsulatedHex = toHex(bytesFromBase64(decapsulated.SharedSecret));
  const same = encapsulatedHex === decapsulatedHex;
  // Each secret is masked until the user reveals it, like the DeriveSharedSecret panel's.
  const secret = revealer();
  const explanation = tamper
    ? (same
      ? "Unexpected: the altered ciphertext decapsulated to the same secret."
      : "Implicit rejection (FIPS 203): the altered ciphertext decapsulated without an error, to a different, pseudo-random secret.")
    : (same
      ? "Decapsulate recovered the secret Encapsulate made."
      : "Unexpected: the ciphertext Encapsulate returned decapsulated to a different secret.");
  results.replaceChildren(
    h("p", { id: "kem-verdict", class: "verdict " + (same ? "match" : "no-match") }, same ? "match" : "no match"),
    h("p", { id: "kem-explanation" }, explanation),
    h("dl", { class: "secrets" },
      ciphertextRows,
      h("dt", {}, "SharedSecret from Encapsulate (hex)"),
      maskedValue(secret, "kem-encapsulated-secret", encapsulatedHex),
      h("dt", {}, "SharedSecret from Decapsulate (hex)"),
      maskedValue(secret, "kem-decapsulated-secret", decapsulatedHex)),
    h("div", { class: "actions" }, secret.button));
  announce(`Encapsulate and Decapsulate: ${same ? "match" : "no match"}.`);
}
