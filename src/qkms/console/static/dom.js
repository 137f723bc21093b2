// Small DOM helpers: elements are built node by node, never parsed from HTML strings.

/** h("button", {type: "button", class: "x", onclick: fn}, "text", child, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Say something to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById("announce");
  region.textContent = "";
  // A fresh text node after a tick makes repeated messages be read again.
  setTimeout(() => { region.textContent = text; }, 30);
}

/** An API error, named exactly as the API names it. */
export function errorBox(error, context) {
  const code = error.code || "Error";
  return h("div", { class: "error", role: "alert", "data-code": code },
    context ? h("span", { class: "error-context" }, context + ": ") : null,
    h("strong", { class: "error-code" }, code),
    h("span", { class: "error-message" }, error.message ? " — " + error.message : ""),
    error.status || error.requestId
      ? h("small", { class: "error-meta" },
          [error.status ? "HTTP " + error.status : null, error.requestId ? "request " + error.requestId : null]
            .filter(Boolean).join(" · "))
      : null);
}

export function formatDate(epochSeconds) {
  if (typeof epochSeconds !== "number") return "—";
  const iso = new Date(epochSeconds * 1000).toISOString();
  return iso.slice(0, 10) + " " + iso.slice(11, 19) + " UTC";
}
