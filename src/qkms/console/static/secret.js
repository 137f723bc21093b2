// Shared secrets on screen: masked (••••) wherever they show until the user reveals them.

import { h } from "./dom.js";

export const MASK = "••••";

/** One "Reveal shared secret" toggle for every place the secret shows (hidden until one does). */
export function revealer() {
  let revealed = false;
  const views = [];
  const button = h("button", { type: "button", id: "reveal-secret", class: "secondary", "aria-pressed": "false", hidden: true }, "Reveal shared secret");
  const render = () => {
    for (const view of views) view(revealed);
    button.textContent = revealed ? "Hide shared secret" : "Reveal shared secret";
    button.setAttribute("aria-pressed", String(revealed));
  };
  button.addEventListener("click", () => { revealed = !revealed; render(); });
  return {
    button,
    add(view) { views.push(view); button.hidden = false; view(revealed); },
  };
}

/** A <dd> showing `hex` only while `secret` is revealed. */
export function maskedValue(secret, id, hex) {
  const dd = h("dd", { id, class: "mono break" });
  secret.add((revealed) => { dd.textContent = revealed ? hex : MASK; });
  return dd;
}
