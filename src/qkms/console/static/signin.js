// Sign in with an access key id and secret, or a pasted shared-credentials profile.
// The form checks the credentials with one signed ListKeys call before keeping them.

import { errorBox, h } from "./dom.js";
import { callKms } from "./kms.js";
import { parseCredentials, save } from "./session.js";

export function renderSignIn(view, { navigate }) {
  const keyId = h("input", { id: "access-key-id", name: "access-key-id", autocomplete: "username", spellcheck: "false", autocapitalize: "off" });
  const secret = h("input", { id: "secret-access-key", name: "secret-access-key", type: "password", autocomplete: "current-password" });
  const region = h("input", { id: "region", name: "region", value: "us-east-1", spellcheck: "false", autocapitalize: "off" });
  const pasted = h("textarea", { id: "credentials-file", rows: "4", spellcheck: "false", placeholder: "[qkms]\naws_access_key_id = …\naws_secret_access_key = …" });
  const result = h("div", { class: "result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "sign-in" }, "Sign in");

  async function onSubmit(event) {
    event.preventDefault();
    result.replaceChildren();
    let creds = { accessKeyId: keyId.value.trim(), secretAccessKey: secret.value, region: region.value.trim() || "us-east-1" };
    if (pasted.value.trim()) {
      const parsed = parseCredentials(pasted.value);
      if (!parsed) {
        result.append(errorBox({ code: "Unreadable credentials", message: "no profile with aws_access_key_id and aws_secret_access_key" }));
        return;
      }
      creds = { ...parsed, region: parsed.region || creds.region };
    }
    if (!creds.accessKeyId || !creds.secretAccessKey) {
      result.append(errorBox({ code: "Missing credentials", message: "enter an access key id and secret, or paste a credentials profile" }));
      return;
    }
    submit.disabled = true;
    try {
      await callKms(creds, "ListKeys", { Limit: 1 });
      save(creds);
      secret.value = "";
      pasted.value = "";
      navigate("#/keys");
    } catch (error) {
      result.append(errorBox(error, "Sign-in check (ListKeys)"));
    } finally {
      submit.disabled = false;
    }
  }

  view.append(
    h("h1", {}, "Sign in"),
    h("p", {}, "Use a QKMS access key. The secret stays in this browser tab (sessionStorage) and is " +
      "sent only as SigV4 signatures on the same TrentService API every client uses."),
    h("form", { id: "sign-in-form", class: "card stack", onsubmit: onSubmit },
      h("div", { class: "field" }, h("label", { for: "access-key-id" }, "Access key id"), keyId),
      h("div", { class: "field" }, h("label", { for: "secret-access-key" }, "Secret access key"), secret),
      h("div", { class: "field" }, h("label", { for: "region" }, "Region (signing scope)"), region),
      h("details", {},
        h("summary", {}, "Or paste a credentials file profile"),
        h("div", { class: "field" },
          h("label", { for: "credentials-file" }, "Contents of <data-dir>/credentials (profile qkms, or the first complete one)"),
          pasted)),
      h("div", { class: "actions" }, submit)),
    result);
}
