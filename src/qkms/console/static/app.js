// The console's entry point: hash routing, the signed-in header, and the secure-context check.

import { clear, h } from "./dom.js";
import { clearSession, load } from "./session.js";
import { renderSignIn } from "./signin.js";
import { renderKeys } from "./keys.js";
import { renderKey } from "./key.js";
import { renderDerive } from "./derive.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function insecure(view) {
  view.append(
    h("h1", { tabindex: "-1" }, "This page needs a secure context"),
    h("p", {}, "The console signs requests and runs ECDH with WebCrypto, which browsers offer only " +
      "over HTTPS or on loopback (http://127.0.0.1, http://localhost). Start qkms serve with " +
      "--tls-cert and --tls-key, or open the console through loopback (e.g. an SSH tunnel)."));
}

function route() {
  const view = h("section", { class: "view" });
  clear(main).append(view);
  const session = load();
  nav.hidden = !session;
  who.hidden = !session;
  document.getElementById("who-name").textContent = session ? session.accessKeyId : "";
  const [page = "keys", ...rest] = (location.hash.replace(/^#\/?/, "") || "keys").split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : "";
  for (const link of nav.querySelectorAll("a")) {
    const current = link.getAttribute("href") === "#/" + (page === "key" ? "keys" : page);
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
    insecure(view);
  } else if (!session) {
    renderSignIn(view, { navigate });
  } else {
    const ctx = { session, navigate };
    if (page === "key" && arg) renderKey(view, ctx, arg);
    else if (page === "derive") renderDerive(view, ctx, arg);
    else renderKeys(view, ctx);
  }
  const heading = view.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    document.title = heading.textContent + " · QKMS console";
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    heading.focus({ preventScroll: true });
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  clearSession();
  navigate("#/signin");
});
window.addEventListener("hashchange", route);
route();
