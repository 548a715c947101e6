// Small pieces of UI used by more than one screen.

import { t } from "./i18n.js";

/** The document types a kiosk can photograph. */
export const DOCUMENT_TYPES = ["ID_CARD", "PASSPORT", "DRIVER_LICENSE", "RESIDENCE_PERMIT"];

/** Fill `container` with one labelled checkbox per document type. */
export function documentChips(container, selected) {
  container.replaceChildren();
  for (const d of DOCUMENT_TYPES) {
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
