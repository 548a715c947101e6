// Small pieces of UI used by more than one screen.

import { t } from "./i18n.js";

/**
 * Fill `container` with one labelled checkbox per document type in `types`
 * (the kiosk's accepted types, from Rust: `appInfo().documentTypes`).
 */
export function documentChips(container, types, selected) {
  container.replaceChildren();
  for (const d of types) {
    const label = document.createElement("label");
    label.className = "chip";
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.name = "documents";
    cb.value = d;
    cb.checked = selected.includes(d);
    const span = document.createElement("span");
    span.dataset.i18n = `doc.${d}`;
    span.textContent = t(`doc.${d}`);
    label.append(cb, " ", span);
    container.append(label);
  }
}
