// The document country on the start form: a searchable list of countries,
// named in the UI language. The codes (ISO 3166-1 alpha-2) come from Rust
// (`appInfo().countries`), the names from the web view's Intl data; what the
// form sends is always the code. Staff may also type the code itself.

const MAX_SHOWN = 8;

let codes = [];
let input = null;
let list = null;
let shown = [];
let active = -1;

function displayNames() {
  try {
    return new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "region" });
  } catch {
    return null;
  }
}

/** The country's name in the UI language (its code when none is known). */
export function countryName(code, names = displayNames()) {
  const name = names ? names.of(code) : null;
  return name && name !== code ? name : code;
}

function label(code, names) {
  return `${countryName(code, names)} (${code})`;
}

// Case and accents do not matter when searching ("lie" finds "Lietuva").
function fold(s) {
  return s.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** The code `text` names exactly (a code, "Name (XX)" or a name), or null. */
function exact(text) {
  const v = text.trim();
  if (!v) return null;
  const up = v.toUpperCase();
  if (v.length === 2 && codes.includes(up)) return up;
  const m = /\(([A-Za-z]{2})\)$/.exec(v);
  if (m && codes.includes(m[1].toUpperCase())) return m[1].toUpperCase();
  const names = displayNames();
  const f = fold(v);
  return codes.find((c) => fold(countryName(c, names)) === f) || null;
}

function matches(text) {
  const q = fold(text.trim());
  if (!q) return [];
  const names = displayNames();
  const scored = [];
  for (const c of codes) {
    const n = fold(countryName(c, names));
    let rank = -1;
    if (c.toLowerCase() === q) rank = 0;
    else if (n.startsWith(q)) rank = 1;
    else if (n.split(/[\s-]+/).some((w) => w.startsWith(q))) rank = 2;
    else if (n.includes(q)) rank = 3;
    if (rank >= 0) scored.push([rank, countryName(c, names), c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, MAX_SHOWN).map((s) => s[2]);
}

function close() {
  shown = [];
  active = -1;
  list.replaceChildren();
  list.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

function open(found) {
  shown = found;
  active = -1;
  const names = displayNames();
  list.replaceChildren();
  found.forEach((c, i) => {
    const li = document.createElement("li");
    li.id = `country-opt-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.dataset.code = c;
    li.textContent = label(c, names);
    // Keep the focus in the field while choosing with a finger or the mouse.
    li.addEventListener("pointerdown", (ev) => ev.preventDefault());
    li.addEventListener("click", () => choose(c));
    list.append(li);
  });
  list.hidden = found.length === 0;
  input.setAttribute("aria-expanded", found.length ? "true" : "false");
}

function highlight(i) {
  active = i;
  [...list.children].forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
  if (i >= 0) {
    input.setAttribute("aria-activedescendant", `country-opt-${i}`);
    list.children[i].scrollIntoView({ block: "nearest" });
  }
}

function choose(code) {
  setCountry(code);
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Show `code` (or nothing) in the field, named in the UI language. */
export function setCountry(code) {
  const c = code && codes.includes(code.toUpperCase()) ? code.toUpperCase() : "";
  input.dataset.code = c;
  input.value = c ? label(c) : "";
  input.dataset.shown = input.value;
  close();
}

/** The code to send: the country chosen, or what was typed (upper case) for
 * Rust to judge. */
export function countryCode() {
  const v = input.value.trim();
  if (input.dataset.code && v === input.dataset.shown) return input.dataset.code;
  return exact(v) || v.toUpperCase();
}

/** The UI language changed: name the chosen country in it. */
export function relabelCountry() {
  if (input.dataset.code && input.value === input.dataset.shown) setCountry(input.dataset.code);
}

export function initCountry(inputEl, listEl, countryCodes) {
  input = inputEl;
  list = listEl;
  codes = [...countryCodes];
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  list.setAttribute("role", "listbox");
  close();
  input.addEventListener("input", () => {
    input.dataset.code = "";
    const code = exact(input.value);
    // A code or a full name typed: chosen, no list in the way of Enter.
    if (code && input.value.trim().length === 2) close();
    else open(matches(input.value));
  });
  input.addEventListener("keydown", (ev) => {
    if (list.hidden) {
      if (ev.key === "ArrowDown" && input.value.trim()) {
        open(matches(input.value));
        ev.preventDefault();
      }
      return;
    }
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      const n = shown.length;
      highlight(ev.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n);
      ev.preventDefault();
    } else if (ev.key === "Enter") {
      const pick = active >= 0 ? shown[active] : shown.length === 1 ? shown[0] : null;
      if (pick) {
        choose(pick);
        ev.preventDefault();
      }
    } else if (ev.key === "Escape") {
      close();
      ev.preventDefault();
      ev.stopPropagation();
    }
  });
  input.addEventListener("blur", () => {
    // Leaving the field: a country named exactly is shown by its name.
    const code = exact(input.value);
    if (code) setCountry(code);
    else close();
  });
}
