// One key: its metadata, its public key (PEM, copy, download), the test panel its type allows
// (DeriveSharedSecret, Encapsulate/Decapsulate or Sign/Verify) and its lifecycle actions.
// Every action is the API call of the same name; when the API refuses, its error is shown.

import { announce, errorBox, formatDate, h } from "./dom.js";
import { callKms } from "./kms.js";
import { bytesFromBase64, pemFromDer } from "./ecdh.js";
import { algorithmRows, canTestSigning, renderSignPanel } from "./sign.js";
import { canTestEncapsulation, renderKemPanel } from "./kem.js";
import { canTestDerivation } from "./derive.js";

export function renderKey(view, ctx, keyId) {
  const metaArea = h("div", { id: "key-meta", "aria-busy": "true" }, h("p", {}, "Loading…"));
  const pemArea = h("div", { id: "key-pem" });
  const signArea = h("div", { id: "key-sign" });
  const kemArea = h("div", { id: "key-kem" });
  // Offered once DescribeKey says the key agrees keys (or cannot say: the panel then explains).
  const deriveLink = h("p", { hidden: true },
    h("a", { href: "#/derive/" + encodeURIComponent(keyId), class: "button", id: "test-derive" }, "Test DeriveSharedSecret with this key"));
  const actionResult = h("div", { id: "action-result", class: "result", "aria-live": "polite" });
  const days = h("input", { id: "pending-days", type: "number", min: "7", max: "30", value: "30", inputmode: "numeric" });

  async function refresh() {
    try {
      const { data } = await callKms(ctx.session, "DescribeKey", { KeyId: keyId });
      metaArea.replaceChildren(metadataList(data.KeyMetadata));
      deriveLink.hidden = !canTestDerivation(data.KeyMetadata);
      if (canTestSigning(data.KeyMetadata) && !signArea.firstChild) {
        signArea.replaceChildren(renderSignPanel(ctx, keyId, data.KeyMetadata));
      }
      if (canTestEncapsulation(data.KeyMetadata) && !kemArea.firstChild) {
        kemArea.replaceChildren(renderKemPanel(ctx, keyId, data.KeyMetadata));
      }
    } catch (error) {
      metaArea.replaceChildren(errorBox(error, "DescribeKey"));
      deriveLink.hidden = false;
    }
    metaArea.setAttribute("aria-busy", "false");
    await loadPublicKey(ctx, keyId, pemArea);
  }

  async function act(operation, payload, done) {
    actionResult.replaceChildren(h("p", {}, operation + "…"));
    try {
      const { data } = await callKms(ctx.session, operation, { KeyId: keyId, ...payload });
      actionResult.replaceChildren(h("p", { class: "ok", role: "status" }, done(data)));
      announce(done(data));
    } catch (error) {
      actionResult.replaceChildren(errorBox(error, operation));
    }
    await refresh();
  }

  const button = (id, label, onclick, extra = "secondary") => h("button", { type: "button", id, class: extra, onclick }, label);
  view.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/keys" }, "← Keys")),
    h("h1", {}, "Key ", h("span", { class: "mono break" }, keyId)),
    deriveLink,
    h("section", { "aria-labelledby": "meta-heading", class: "card" }, h("h2", { id: "meta-heading" }, "Metadata"), metaArea),
    h("section", { "aria-labelledby": "pem-heading", class: "card" }, h("h2", { id: "pem-heading" }, "Public key"), pemArea),
    signArea,
    kemArea,
    h("section", { "aria-labelledby": "actions-heading", class: "card" },
      h("h2", { id: "actions-heading" }, "Actions"),
      h("div", { class: "actions wrap" },
        button("enable-key", "Enable", () => act("EnableKey", {}, () => "Key enabled.")),
        button("disable-key", "Disable", () => act("DisableKey", {}, () => "Key disabled."))),
      h("div", { class: "row end" },
        h("div", { class: "field" }, h("label", { for: "pending-days" }, "Deletion window (7–30 days)"), days),
        button("schedule-deletion", "Schedule deletion", () => act("ScheduleKeyDeletion",
          { PendingWindowInDays: Number(days.value) },
          (d) => `Deletion scheduled for ${formatDate(d.DeletionDate)}.`), "danger"),
        button("cancel-deletion", "Cancel deletion", () => act("CancelKeyDeletion", {}, () => "Deletion cancelled; the key is Disabled until you enable it."))),
      actionResult));
  refresh();
}

function metadataList(meta) {
  const rows = [
    ["KeyId", meta.KeyId], ["Arn", meta.Arn], ["Description", meta.Description || "—"],
    ["KeySpec", meta.KeySpec], ["KeyUsage", meta.KeyUsage], ["KeyState", meta.KeyState],
    ["Enabled", String(meta.Enabled)], ["CreationDate", formatDate(meta.CreationDate)],
    ["DeletionDate", meta.DeletionDate ? formatDate(meta.DeletionDate) : "—"],
    ["Origin", meta.Origin], ["KeyManager", meta.KeyManager],
    // Each algorithm list DescribeKey gives for this kind of key.
    ...algorithmRows(meta),
  ];
  return h("dl", { class: "meta" }, rows.map(([name, value]) => [
    h("dt", {}, name), h("dd", { "data-field": name, class: name === "Arn" || name === "KeyId" ? "mono break" : "" }, value)]));
}

async function loadPublicKey(ctx, keyId, area) {
  let data;
  try {
    ({ data } = await callKms(ctx.session, "GetPublicKey", { KeyId: keyId }));
  } catch (error) {
    area.replaceChildren(errorBox(error, "GetPublicKey"));
    return;
  }
  const pem = pemFromDer(bytesFromBase64(data.PublicKey));
  const status = h("span", { class: "hint", "aria-live": "polite" });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(pem);
      status.textContent = "Copied.";
    } catch (_) {
      // No clipboard permission: select the text so the user can copy it themselves.
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([pem], { type: "application/x-pem-file" }));
    const link = h("a", { href: url, download: keyId + ".pem", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const pre = h("pre", { id: "public-key-pem", class: "pem", tabindex: "0", "aria-label": "Public key, PEM" }, pem);
  area.replaceChildren(
    h("p", { class: "hint" }, `${data.KeySpec}, SubjectPublicKeyInfo`),
    pre,
    h("div", { class: "actions" },
      h("button", { type: "button", id: "copy-pem", class: "secondary", onclick: copy }, "Copy PEM"),
      h("button", { type: "button", id: "download-pem", class: "secondary", onclick: download }, "Download .pem"),
      status));
}
