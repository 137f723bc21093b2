// Test DeriveSharedSecret: the panel the seed page promised ("Try It Out — Coming Soon").
// The browser makes an ephemeral key pair on the key's curve (WebCrypto ECDH, or X25519), calls
// DeriveSharedSecret with its public key, computes its own side from GetPublicKey, and compares.
// For secp256k1 and X448 (which WebCrypto lacks), and for any curve on request, the user pastes
// a peer public key instead and may paste the secret they expect to compare against.

import { announce, errorBox, h } from "./dom.js";
import { callKms, KmsError, listAllKeys } from "./kms.js";
import { bytesFromBase64, canGenerate, CURVES, deriveOwnSide, generateEphemeral, normalizeHex, readPeerPublicKey } from "./ecdh.js";
import { MASK, maskedValue, revealer } from "./secret.js";
import { toHex } from "./sigv4.js";

const OTHER = "__other__";
const AGREEMENT_USAGES = ["DERIVE_SHARED_SECRET", "KEY_AGREEMENT"];

/** Whether a key can be tried here (the key page links to this panel only for such keys). */
export function canTestDerivation(meta) {
  return AGREEMENT_USAGES.includes(meta.KeyUsage);
}

export function renderDerive(view, ctx, preselected) {
  const keySelect = h("select", { id: "derive-key", disabled: true }, h("option", { value: "" }, "Loading keys…"));
  const otherKey = h("input", { id: "derive-key-other", spellcheck: "false", autocapitalize: "off", placeholder: "key id, key ARN, alias/name or alias ARN" });
  const otherField = h("div", { class: "field", hidden: true }, h("label", { for: "derive-key-other" }, "Key id, ARN or alias"), otherKey);
  const modeGenerate = h("input", { type: "radio", name: "mode", id: "mode-generate", value: "generate", checked: true });
  const modePaste = h("input", { type: "radio", name: "mode", id: "mode-paste", value: "paste" });
  const curveNote = h("p", { id: "curve-note", class: "hint", hidden: true });
  const peerKey = h("textarea", { id: "peer-public-key", rows: "5", spellcheck: "false", placeholder: "-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----" });
  const expected = h("input", { id: "expected-secret", spellcheck: "false", autocapitalize: "off", placeholder: "hex, optional" });
  const pasteFields = h("div", { class: "stack", hidden: true },
    h("div", { class: "field" }, h("label", { for: "peer-public-key" }, "Peer public key (PEM, base64 DER or hex; SubjectPublicKeyInfo, raw EC point or raw X25519/X448 key)"), peerKey),
    h("div", { class: "field" }, h("label", { for: "expected-secret" }, "Expected shared secret (hex, optional: computed on the peer's side)"), expected));
  const submit = h("button", { type: "submit", id: "derive-run" }, "Derive shared secret");
  const results = h("div", { id: "derive-results", "aria-live": "polite" });
  const specs = new Map(); // key id -> KeySpec (from DescribeKey)

  const selectedSpec = () => specs.get(keySelect.value) || null;
  function syncForm() {
    otherField.hidden = keySelect.value !== OTHER;
    const spec = selectedSpec();
    const generateOk = spec === null || canGenerate(spec);
    modeGenerate.disabled = !generateOk;
    if (!generateOk) modePaste.checked = true;
    curveNote.hidden = generateOk;
    // A key agreement spec this panel has no entry for (AWS's SM2, say) must not break the form.
    const label = CURVES[spec] ? CURVES[spec].label : spec;
    curveNote.textContent = generateOk ? "" : `${spec}: WebCrypto has no ${label}, so paste a peer public key of that curve.`;
    pasteFields.hidden = !modePaste.checked;
  }
  keySelect.addEventListener("change", syncForm);
  modeGenerate.addEventListener("change", syncForm);
  modePaste.addEventListener("change", syncForm);

  async function onSubmit(event) {
    event.preventDefault();
    const keyRef = keySelect.value === OTHER ? otherKey.value.trim() : keySelect.value;
    if (!keyRef) {
      results.replaceChildren(errorBox({ code: "No key", message: "choose a KMS key first" }));
      return;
    }
    submit.disabled = true;
    results.setAttribute("aria-busy", "true");
    try {
      await runTest(ctx, { keyRef, spec: selectedSpec(), paste: modePaste.checked, peerText: peerKey.value, expectedText: expected.value }, results);
    } finally {
      submit.disabled = false;
      results.setAttribute("aria-busy", "false");
    }
  }

  view.append(
    h("h1", {}, "Test DeriveSharedSecret"),
    h("p", {}, "Derive a shared secret using a KMS key, and check it against the other side of the exchange. " +
      "The private key never leaves QKMS; the browser's ephemeral private key never leaves this tab."),
    h("form", { id: "derive-form", class: "card stack", onsubmit: onSubmit },
      h("div", { class: "field" }, h("label", { for: "derive-key" }, "KMS key (KeyId)"), keySelect),
      otherField,
      h("fieldset", {},
        h("legend", {}, "The other party (PublicKey)"),
        h("div", { class: "choice" }, modeGenerate, h("label", { for: "mode-generate" }, "Generate an ephemeral key pair in this browser (WebCrypto ECDH or X25519)")),
        h("div", { class: "choice" }, modePaste, h("label", { for: "mode-paste" }, "Paste a peer public key")),
        curveNote),
      pasteFields,
      h("div", { class: "actions" }, submit)),
    h("section", { "aria-labelledby": "results-heading", class: "card" }, h("h2", { id: "results-heading" }, "Result"), results));

  fillKeys(ctx, keySelect, specs, preselected).then(syncForm);
}

async function fillKeys(ctx, select, specs, preselected) {
  const options = [];
  try {
    const keys = await listAllKeys(ctx.session);
    const described = await Promise.all(keys.map((k) =>
      callKms(ctx.session, "DescribeKey", { KeyId: k.KeyId }).then(({ data }) => data.KeyMetadata, () => null)));
    for (const meta of described) {
      if (!meta || !canTestDerivation(meta)) continue;
      specs.set(meta.KeyId, meta.KeySpec);
      const label = `${meta.Description ? meta.Description + " — " : ""}${meta.KeyId} (${meta.KeySpec}, ${meta.KeyState})`;
      options.push(h("option", { value: meta.KeyId }, label));
    }
  } catch (error) {
    select.after(errorBox(error, "Listing keys"));
  }
  select.replaceChildren(
    h("option", { value: "" }, options.length ? "Choose a key…" : "No key agreement keys: create one on the Keys page"),
    ...options,
    h("option", { value: OTHER }, "Other: type a key id, ARN or alias…"));
  if (preselected) {
    if (specs.has(preselected)) select.value = preselected;
    else { select.value = OTHER; document.getElementById("derive-key-other").value = preselected; }
  } else if (options.length === 1) {
    select.value = options[0].value;
  }
  select.disabled = false;
}

async function runTest(ctx, { keyRef, spec, paste, peerText, expectedText }, results) {
  const steps = h("ol", { class: "steps" });
  const step = (text) => { steps.append(h("li", {}, text)); };
  const exchangeArea = h("div", { class: "exchange" });
  results.replaceChildren(steps, exchangeArea);
  const fail = (error, context) => {
    results.prepend(errorBox(error, context));
    announce(`${context} failed: ${error.code || "Error"}`);
  };

  try {
    if (!spec) {
      const { data } = await callKms(ctx.session, "DescribeKey", { KeyId: keyRef });
      spec = data.KeyMetadata.KeySpec;
      step(`DescribeKey: ${spec}.`);
    }
    if (!CURVES[spec]) throw new KmsError("Not a key agreement curve", `${spec} is not a curve this panel knows`);
    if (!paste && !canGenerate(spec)) throw new KmsError("Unsupported in WebCrypto", `WebCrypto has no ${CURVES[spec].label}: paste a peer public key`);
  } catch (error) {
    fail(error, error.exchange ? "DescribeKey" : "Preparing");
    return;
  }

  let ephemeral = null;
  let publicKeyB64;
  if (paste) {
    const read = readPeerPublicKey(peerText, spec);
    publicKeyB64 = read.publicKeyB64;
    step(`Peer public key read as: ${read.form}.`);
  } else {
    ephemeral = await generateEphemeral(spec);
    publicKeyB64 = ephemeral.publicKeyB64;
    step(`Generated an ephemeral ${CURVES[spec].label} key pair in this browser (private key not extractable).`);
  }

  let derived;
  // The shared secret is masked wherever it shows until the user reveals it.
  const secret = revealer();
  try {
    derived = await callKms(ctx.session, "DeriveSharedSecret", { KeyId: keyRef, PublicKey: publicKeyB64 });
    step("DeriveSharedSecret answered.");
  } catch (error) {
    if (error.exchange) exchangeArea.replaceChildren(exchangeView(error.exchange, secret));
    fail(error, "DeriveSharedSecret");
    return;
  }
  exchangeArea.replaceChildren(exchangeView(derived.exchange, secret));
  const kmsHex = toHex(bytesFromBase64(derived.data.SharedSecret));

  let ownHex = null;
  let ownLabel;
  if (ephemeral) {
    try {
      const { data } = await callKms(ctx.session, "GetPublicKey", { KeyId: keyRef });
      step("GetPublicKey answered; computing this browser's side with WebCrypto deriveBits.");
      ownHex = await deriveOwnSide(ephemeral.privateKey, data.PublicKey, spec);
      ownLabel = `This browser's side (WebCrypto ${CURVES[spec].xdh ? CURVES[spec].webCrypto : "ECDH"})`;
    } catch (error) {
      fail(error, error instanceof KmsError ? "GetPublicKey" : "WebCrypto deriveBits");
      return;
    }
  } else if (expectedText.trim()) {
    ownHex = normalizeHex(expectedText);
    ownLabel = "Expected secret (pasted)";
    if (ownHex === null) {
      fail({ code: "Unreadable expected secret", message: "the expected secret must be hex" }, "Comparing");
    }
  }

  const masked = (id, hex) => maskedValue(secret, id, hex);
  const verdict = ownHex === null
    ? h("p", { id: "verdict", class: "verdict neutral" }, "not compared")
    : h("p", { id: "verdict", class: "verdict " + (ownHex === kmsHex ? "match" : "no-match") }, ownHex === kmsHex ? "match" : "no match");
  results.prepend(
    verdict,
    h("dl", { class: "secrets" },
      h("dt", {}, "KMS side (SharedSecret from DeriveSharedSecret, hex)"),
      masked("kms-secret", kmsHex),
      h("dt", {}, ownLabel || "Other side"),
      ownHex !== null ? masked("own-secret", ownHex) : h("dd", { id: "own-secret" }, paste
        ? "not computed here: the browser has no private key for a pasted public key. Paste the expected secret to compare."
        : "—")));
  announce("DeriveSharedSecret: " + verdict.textContent);
}

function exchangeView(exchange, secret) {
  const response = exchange.response || { body: null };
  const hasSecret = response.body && typeof response.body === "object" && "SharedSecret" in response.body;
  const requestPre = h("pre", { id: "request-json", class: "json", tabindex: "0", "aria-label": "Request" });
  const responsePre = h("pre", { id: "response-json", class: "json", tabindex: "0", "aria-label": "Response" });
  const headers = Object.entries(exchange.request.headers).map(([k, v]) => `${k}: ${v}`).join("\n");
  requestPre.textContent = `POST / HTTP/1.1\n${headers}\n\n${JSON.stringify(exchange.request.body, null, 2)}`;
  const renderResponse = (revealed) => {
    const body = JSON.stringify(response.body, (k, v) => (k === "SharedSecret" && !revealed ? MASK : v), 2);
    responsePre.textContent = `HTTP ${response.status}\nx-amzn-RequestId: ${response.requestId}\n\n${body}`;
  };
  if (hasSecret) secret.add(renderResponse); else renderResponse(false);
  return h("div", { class: "stack" },
    h("h3", {}, "Request"), requestPre,
    h("div", { class: "row between" }, h("h3", {}, "Response"), secret.button), responsePre);
}
