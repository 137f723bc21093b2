// The Keys page: the account's keys a page at a time, and the form that creates a
// DERIVE_SHARED_SECRET key.

import { errorBox, formatDate, h } from "./dom.js";
import { aliasesByKey, callKms } from "./kms.js";
import { CURVES } from "./ecdh.js";

// Paging survives moving between pages of the console, not a reload.
const paging = { markers: [undefined], index: 0, pageSize: 10 };

export function renderKeys(view, ctx) {
  const tableArea = h("div", { id: "keys-area", "aria-live": "polite", "aria-busy": "true" });
  view.append(
    h("h1", {}, "Keys"),
    createForm(ctx),
    h("section", { "aria-labelledby": "keys-heading" },
      h("h2", { id: "keys-heading" }, "Keys in this account"),
      tableArea));
  loadPage(tableArea, ctx);
}

function createForm(ctx) {
  const spec = h("select", { id: "create-spec" },
    Object.entries(CURVES).map(([value, curve]) => h("option", { value }, `${value} — ${curve.label}`)));
  const description = h("input", { id: "create-description", maxlength: "8192", placeholder: "e.g. device pairing test" });
  const result = h("div", { class: "result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "create-key" }, "Create key");
  async function onSubmit(event) {
    event.preventDefault();
    result.replaceChildren();
    submit.disabled = true;
    try {
      const { data } = await callKms(ctx.session, "CreateKey", {
        KeyUsage: "DERIVE_SHARED_SECRET", KeySpec: spec.value, Description: description.value,
      });
      paging.markers = [undefined];
      paging.index = 0;
      ctx.navigate("#/key/" + encodeURIComponent(data.KeyMetadata.KeyId));
    } catch (error) {
      result.append(errorBox(error, "CreateKey"));
    } finally {
      submit.disabled = false;
    }
  }
  return h("section", { "aria-labelledby": "create-heading", class: "card" },
    h("h2", { id: "create-heading" }, "Create a key agreement key"),
    h("form", { id: "create-form", class: "stack", onsubmit: onSubmit },
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: "create-spec" }, "Curve (KeySpec)"), spec),
        h("div", { class: "field grow" }, h("label", { for: "create-description" }, "Description"), description)),
      h("p", { class: "hint" }, "KeyUsage is DERIVE_SHARED_SECRET. secp256k1 keys work with a pasted peer key only: WebCrypto has no secp256k1."),
      h("div", { class: "actions" }, submit)),
    result);
}

async function loadPage(area, ctx) {
  const marker = paging.markers[paging.index];
  area.setAttribute("aria-busy", "true");
  area.replaceChildren(h("p", {}, "Loading keys…"));
  let page;
  try {
    const payload = { Limit: paging.pageSize };
    if (marker) payload.Marker = marker;
    ({ data: page } = await callKms(ctx.session, "ListKeys", payload));
  } catch (error) {
    area.replaceChildren(errorBox(error, "ListKeys"));
    area.setAttribute("aria-busy", "false");
    return;
  }
  const keys = page.Keys || [];
  const [aliases, described] = await Promise.all([
    aliasesByKey(ctx.session),
    Promise.all(keys.map((k) => callKms(ctx.session, "DescribeKey", { KeyId: k.KeyId })
      .then(({ data }) => data.KeyMetadata, (error) => ({ KeyId: k.KeyId, error })))),
  ]);
  const rows = described.map((meta) => keyRow(meta, aliases));
  const table = h("table", { id: "keys-table" },
    h("caption", { class: "sr-only" }, "Keys, page " + (paging.index + 1)),
    h("thead", {}, h("tr", {}, ["Key id", "Alias", "Spec", "Usage", "State", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows));
  const pager = h("div", { class: "pager" },
    h("button", { type: "button", id: "page-prev", class: "secondary", disabled: paging.index === 0,
      onclick: () => { paging.index -= 1; loadPage(area, ctx); } }, "Previous"),
    h("span", { id: "page-number" }, `Page ${paging.index + 1}`),
    h("button", { type: "button", id: "page-next", class: "secondary", disabled: !page.Truncated,
      onclick: () => { paging.markers[paging.index + 1] = page.NextMarker; paging.index += 1; loadPage(area, ctx); } }, "Next"),
    h("label", { for: "page-size" }, "Per page"),
    h("select", { id: "page-size", onchange: (e) => {
      paging.pageSize = Number(e.target.value); paging.markers = [undefined]; paging.index = 0; loadPage(area, ctx);
    } }, [10, 25, 50, 100].map((n) => h("option", { value: n, selected: n === paging.pageSize }, String(n)))));
  area.replaceChildren(
    keys.length ? h("div", { class: "table-wrap" }, table) : h("p", { id: "no-keys" }, "No keys yet: create one above."),
    aliases === null ? h("p", { class: "hint" }, "Aliases: this server has no ListAliases yet, so they show as —.") : null,
    pager);
  area.setAttribute("aria-busy", "false");
}

function keyRow(meta, aliases) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  const link = h("a", { href: "#/key/" + encodeURIComponent(meta.KeyId), class: "mono" }, meta.KeyId);
  if (meta.error) {
    return h("tr", {}, cell("Key id", link), cell("Alias", "—"), h("td", { colspan: "4", "data-label": "Error" }, errorBox(meta.error, "DescribeKey")));
  }
  const names = aliases && aliases.get(meta.KeyId);
  return h("tr", { "data-key-id": meta.KeyId },
    cell("Key id", link),
    cell("Alias", names && names.length ? names.join(", ") : "—"),
    cell("Spec", meta.KeySpec),
    cell("Usage", meta.KeyUsage),
    cell("State", h("span", { class: "state state-" + meta.KeyState }, meta.KeyState)),
    cell("Created", formatDate(meta.CreationDate)));
}
