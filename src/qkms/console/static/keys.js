// The Keys page: every key of the account, filtered by KeySpec and KeyUsage, a page at a time,
// with each key's algorithms; and the form that creates a key agreement or ML-KEM key.

import { errorBox, formatDate, h } from "./dom.js";
import { aliasesByKey, callKms } from "./kms.js";
import { CURVES } from "./ecdh.js";

// Every KeySpec and KeyUsage AWS KMS defines: the filter offers them all, whatever this server
// creates today.
const KEY_SPECS = ["SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256",
  "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "HMAC_224",
  "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
  "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024", "ECC_X25519", "ECC_X448"];
const KEY_USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT",
  "DERIVE_SHARED_SECRET", "ENCAPSULATE_DECAPSULATE"];
const ALGORITHM_LISTS = ["EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms", "MacAlgorithms",
  "EncapsulationAlgorithms"];
// A filter reads ListKeys and DescribeKey until it has a page of matches: at most this many keys.
const MAX_SCANNED = 2000;

// Paging and filters survive moving between pages of the console, not a reload.
const paging = { index: 0, pageSize: 10, spec: "", usage: "" };

/** Every algorithm DescribeKey names for the key, whatever its kind. */
export function algorithmsOf(meta) {
  return ALGORITHM_LISTS.flatMap((name) => meta[name] || []);
}

export function renderKeys(view, ctx) {
  const tableArea = h("div", { id: "keys-area", "aria-live": "polite", "aria-busy": "true" });
  const cursor = new KeyCursor(ctx.session);
  const reload = () => { paging.index = 0; loadPage(tableArea, ctx, cursor); };
  view.append(
    h("h1", {}, "Keys"),
    createForm(ctx),
    h("section", { "aria-labelledby": "keys-heading" },
      h("h2", { id: "keys-heading" }, "Keys in this account"),
      filters(reload),
      tableArea));
  loadPage(tableArea, ctx, cursor);
}

function filters(reload) {
  const select = (id, label, values, key) => h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, onchange: (e) => { paging[key] = e.target.value; reload(); } },
      h("option", { value: "" }, "All"),
      values.map((v) => h("option", { value: v, selected: v === paging[key] }, v))));
  return h("div", { class: "row filters" },
    select("filter-spec", "KeySpec filter", KEY_SPECS, "spec"),
    select("filter-usage", "KeyUsage filter", KEY_USAGES, "usage"));
}

/** ListKeys pages described one by one, read only as far as the shown page needs. */
class KeyCursor {
  constructor(session) {
    this.session = session;
    this.described = [];
    this.marker = undefined;
    this.done = false;
    this.reading = Promise.resolve(); // the read in progress (see matching)
  }

  /** The matching keys, once at least `count` of them are known or there are no more to read.
   *  One read at a time: two loads in flight (a filter changed twice) wait for each other
   *  instead of reading the same page twice and listing its keys twice. */
  async matching(count, match) {
    const previous = this.reading;
    let release;
    this.reading = new Promise((done) => { release = done; });
    try {
      await previous;
      return await this.read(count, match);
    } finally {
      release();
    }
  }

  async read(count, match) {
    let found = this.described.filter(match);
    while (found.length < count && !this.done && this.described.length < MAX_SCANNED) {
      const payload = { Limit: paging.pageSize };
      if (this.marker) payload.Marker = this.marker;
      const { data } = await callKms(this.session, "ListKeys", payload);
      const described = await Promise.all((data.Keys || []).map((k) => callKms(this.session, "DescribeKey", { KeyId: k.KeyId })
        .then(({ data: d }) => d.KeyMetadata, (error) => ({ KeyId: k.KeyId, error }))));
      this.described.push(...described);
      this.marker = data.Truncated ? data.NextMarker : undefined;
      this.done = !data.Truncated;
      found = this.described.filter(match);
    }
    return found;
  }
}

function matches(meta) {
  if (meta.error) return !paging.spec && !paging.usage;
  return (!paging.spec || meta.KeySpec === paging.spec) && (!paging.usage || meta.KeyUsage === paging.usage);
}

// ML-KEM key specs the console creates (FIPS 203 parameter sets; AWS's usage name for them).
const KEM_SPECS = { ML_KEM_768: "ML-KEM-768", ML_KEM_1024: "ML-KEM-1024" };
// KEY_AGREEMENT is AWS's name, the one the AWS Encryption SDK's ECDH keyring accepts;
// DERIVE_SHARED_SECRET is the seed page's spelling of the same usage.
const AGREEMENT_USAGES = ["KEY_AGREEMENT", "DERIVE_SHARED_SECRET"];
const KEM_USAGES = ["ENCAPSULATE_DECAPSULATE"];

function createForm(ctx) {
  const spec = h("select", { id: "create-spec" },
    h("optgroup", { label: "Key agreement (DeriveSharedSecret)" },
      Object.entries(CURVES).map(([value, curve]) => h("option", { value }, `${value} — ${curve.label}`))),
    h("optgroup", { label: "Key encapsulation (Encapsulate/Decapsulate)" },
      Object.entries(KEM_SPECS).map(([value, label]) => h("option", { value }, `${value} — ${label}`))));
  const usage = h("select", { id: "create-usage" });
  // The usages offered follow the spec: an ML-KEM key only encapsulates and decapsulates.
  const syncUsage = () => {
    const usages = spec.value in KEM_SPECS ? KEM_USAGES : AGREEMENT_USAGES;
    if (usage.options.length && usages.includes(usage.options[0].value)) return;
    usage.replaceChildren(...usages.map((value) => h("option", { value }, value)));
  };
  spec.addEventListener("change", syncUsage);
  syncUsage();
  const description = h("input", { id: "create-description", maxlength: "8192", placeholder: "e.g. device pairing test" });
  const result = h("div", { class: "result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "create-key" }, "Create key");
  async function onSubmit(event) {
    event.preventDefault();
    result.replaceChildren();
    submit.disabled = true;
    try {
      const { data } = await callKms(ctx.session, "CreateKey", {
        KeyUsage: usage.value, KeySpec: spec.value, Description: description.value,
      });
      paging.index = 0;
      ctx.navigate("#/key/" + encodeURIComponent(data.KeyMetadata.KeyId));
    } catch (error) {
      result.append(errorBox(error, "CreateKey"));
    } finally {
      submit.disabled = false;
    }
  }
  return h("section", { "aria-labelledby": "create-heading", class: "card" },
    h("h2", { id: "create-heading" }, "Create a key agreement or ML-KEM key"),
    h("form", { id: "create-form", class: "stack", onsubmit: onSubmit },
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: "create-spec" }, "Curve (KeySpec) or ML-KEM parameter set"), spec),
        h("div", { class: "field" }, h("label", { for: "create-usage" }, "KeyUsage"), usage),
        h("div", { class: "field grow" }, h("label", { for: "create-description" }, "Description"), description)),
      h("p", { class: "hint" }, "KEY_AGREEMENT is the usage AWS clients expect (the AWS Encryption SDK refuses any other). secp256k1 and X448 keys work with a pasted peer key only: WebCrypto has neither. " +
        "ML-KEM keys are ENCAPSULATE_DECAPSULATE keys, tried on their key page."),
      h("div", { class: "actions" }, submit)),
    result);
}

async function loadPage(area, ctx, cursor) {
  // The latest load wins: an earlier one (another filter, page or size chosen meanwhile)
  // whose answers arrive later must not put its table back.
  const load = (area.loads = (area.loads || 0) + 1);
  area.setAttribute("aria-busy", "true");
  area.replaceChildren(h("p", {}, "Loading keys…"));
  const start = paging.index * paging.pageSize;
  let found;
  let aliases;
  try {
    // One more than the page: whether there is a next page.
    [found, aliases] = await Promise.all([
      cursor.matching(start + paging.pageSize + 1, matches),
      aliasesByKey(ctx.session),
    ]);
  } catch (error) {
    if (load !== area.loads) return;
    area.replaceChildren(errorBox(error, "ListKeys"));
    area.setAttribute("aria-busy", "false");
    return;
  }
  if (load !== area.loads) return;
  const shown = found.slice(start, start + paging.pageSize);
  const hasNext = found.length > start + paging.pageSize;
  const filtered = paging.spec || paging.usage;
  const table = h("table", { id: "keys-table" },
    h("caption", { class: "sr-only" }, "Keys, page " + (paging.index + 1)),
    h("thead", {}, h("tr", {}, ["Key id", "Alias", "Spec", "Usage", "Algorithms", "State", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, shown.map((meta) => keyRow(meta, aliases))));
  const pager = h("div", { class: "pager" },
    h("button", { type: "button", id: "page-prev", class: "secondary", disabled: paging.index === 0,
      onclick: () => { paging.index -= 1; loadPage(area, ctx, cursor); } }, "Previous"),
    h("span", { id: "page-number" }, `Page ${paging.index + 1}`),
    h("button", { type: "button", id: "page-next", class: "secondary", disabled: !hasNext,
      onclick: () => { paging.index += 1; loadPage(area, ctx, cursor); } }, "Next"),
    h("label", { for: "page-size" }, "Per page"),
    h("select", { id: "page-size", onchange: (e) => {
      paging.pageSize = Number(e.target.value); paging.index = 0; loadPage(area, ctx, cursor);
    } }, [10, 25, 50, 100].map((n) => h("option", { value: n, selected: n === paging.pageSize }, String(n)))));
  const empty = filtered
    ? h("p", { id: "no-keys" }, "No key matches these filters.")
    : h("p", { id: "no-keys" }, "No keys yet: create one above.");
  const notes = [];
  if (aliases === null) notes.push(h("p", { class: "hint" }, "Aliases are not shown: ListAliases was refused."));
  if (!cursor.done && cursor.described.length >= MAX_SCANNED && filtered) {
    notes.push(h("p", { class: "hint" }, `Filters looked at the first ${MAX_SCANNED} keys only.`));
  }
  area.replaceChildren(shown.length ? h("div", { class: "table-wrap" }, table) : empty, ...notes, pager);
  area.setAttribute("aria-busy", "false");
}

function keyRow(meta, aliases) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  const link = h("a", { href: "#/key/" + encodeURIComponent(meta.KeyId), class: "mono" }, meta.KeyId);
  if (meta.error) {
    return h("tr", { "data-key-id": meta.KeyId }, cell("Key id", link), cell("Alias", "—"), h("td", { colspan: "5", "data-label": "Error" }, errorBox(meta.error, "DescribeKey")));
  }
  const names = aliases && aliases.get(meta.KeyId);
  return h("tr", { "data-key-id": meta.KeyId },
    cell("Key id", link),
    cell("Alias", names && names.length ? names.join(", ") : "—"),
    cell("Spec", meta.KeySpec),
    cell("Usage", meta.KeyUsage),
    cell("Algorithms", algorithmsOf(meta).join(", ") || "—"),
    cell("State", h("span", { class: "state state-" + meta.KeyState }, meta.KeyState)),
    cell("Created", formatDate(meta.CreationDate)));
}
