// String catalogs: ui/i18n/<lang>.json, one file per language. The list of
// languages comes from Rust (generated at build time from the files present),
// so adding a language is adding a file.

let catalog = {};
let fallback = {};
let current = "en";

async function load(lang) {
  const res = await fetch(`i18n/${lang}.json`);
  if (!res.ok) throw new Error(`catalog ${lang}: ${res.status}`);
  return res.json();
}

export async function setLanguage(lang) {
  if (!Object.keys(fallback).length) fallback = await load("en");
  catalog = lang === "en" ? fallback : await load(lang);
  current = lang;
  document.documentElement.lang = lang;
  applyStatic();
}

export function language() {
  return current;
}

/** The string for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}, fallbackText) {
  let s = catalog[key] ?? fallback[key] ?? fallbackText ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** True when a catalog has the key (else the caller shows Rust's own words). */
export function has(key) {
  return key in catalog || key in fallback;
}

/** Fill every element marked data-i18n. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
}
