// The staff dialog: PIN, settings, API credentials, restart and exit; and,
// during a session, the dialog in which staff accept a photo the framing
// check refused. Rust decides everything (the PIN is checked there, secrets
// never come back); this file only shows the state it gets and sends what
// staff typed.

import { api } from "./api.js";
import { t, setLanguage } from "./i18n.js";
import { documentChips } from "./widgets.js";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** The secret fields: typed in, sent once, only "stored or not" comes back. */
const SECRETS = ["apiKey", "apiSecret", "signingKey", "relayKey"];

let deps = null;
let pinSet = false;
let padTarget = null;

function showError(e) {
  const el = $("#staff-error");
  if (!e) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.textContent = deps.errorText(e);
  el.hidden = false;
  deps.announce(el.textContent);
  for (const x of $$("#staff [aria-invalid]")) x.removeAttribute("aria-invalid");
  if (e.field) {
    const input = document.getElementById(`s-${e.field}`) || (e.field === "pin" ? $("#staff-pin-input") : null);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }
}

function wipeInputs() {
  for (const el of $$("#staff input[type=password]")) el.value = "";
}

function panel(name) {
  for (const p of $$("#staff [data-panel]")) p.hidden = p.dataset.panel !== name;
}

function showPin(status) {
  pinSet = status.pinSet;
  panel("pin");
  $("#staff-pin-label").textContent = t(pinSet ? "staff.pin.enter" : "staff.pin.first");
  $("#staff-pin2-wrap").hidden = pinSet;
  if (status.lockedSecs) showError({ code: "PIN_LOCKED", message: t("error.PIN_LOCKED") });
  padTarget = $("#staff-pin-input");
  $("#staff-pin-input").focus();
}

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

function fillSelect(sel, current, cameras) {
  sel.replaceChildren(option("", t("staff.firstCamera")));
  const names = [...cameras];
  if (current && !names.includes(current)) names.push(current);
  for (const n of names) sel.append(option(n, n));
  sel.value = current || "";
}

function showSettings(status) {
  panel("settings");
  const s = status.settings;
  fillSelect($("#s-documentCamera"), s.documentCamera, status.cameras);
  fillSelect($("#s-selfieCamera"), s.selfieCamera, status.cameras);
  $("#s-defaultCountry").value = s.defaultCountry || "";
  const lang = $("#s-language");
  lang.replaceChildren(...deps.languages().map((l) => option(l.code, l.name)));
  lang.value = s.language;
  $("#s-idleTimeoutSecs").value = String(s.idleTimeoutSecs);
  $("#s-kioskMode").checked = s.kioskMode;
  $("#s-relayUrl").value = s.relayUrl || "";
  $("#s-debugOverlay").checked = deps.debug();
  documentChips($("#s-documents"), deps.documentTypes(), s.documents);
  renderStatus(status);
  $("#s-defaultCountry").focus();
}

function renderStatus(status) {
  $("#staff-backend").textContent = t(`staff.backend.${status.backend}`) +
    (status.fullscreen ? ` · ${t("staff.kioskActive")}` : "");
  $("#staff-secret-store").textContent = status.keyringError
    ? `${t("error.KEYRING_UNAVAILABLE")} (${status.keyringError})`
    : t("staff.secretStore", { store: status.secretStore });
  for (const k of SECRETS) {
    const set = !!(status.secrets && status.secrets[k]);
    const flag = $(`#flag-${k}`);
    flag.textContent = t(set ? "staff.stored" : "staff.notStored");
    flag.dataset.set = set ? "1" : "0";
  }
  $("#staff-restart-note").hidden = !status.restartNeeded;
  document.body.dataset.staffRestartNeeded = status.restartNeeded ? "1" : "0";
}

/** Runs a staff command; on "needs the PIN" goes back to the PIN panel. */
async function guarded(fn, okKey) {
  showError(null);
  $("#staff-saved").textContent = "";
  try {
    const status = await fn();
    if (status && status.settings) renderStatus(status);
    if (okKey) {
      $("#staff-saved").textContent = t(okKey);
      deps.announce(t(okKey));
    }
    return status;
  } catch (e) {
    if (e.code === "STAFF_ONLY") {
      const st = await api.staffStatus();
      showPin(st);
    }
    showError(e);
    return null;
  }
}

export async function openStaff() {
  showError(null);
  wipeInputs();
  $("#staff-saved").textContent = "";
  $("#staff").hidden = false;
  document.body.dataset.staff = "open";
  const status = await api.staffStatus();
  if (status.unlocked) showSettings(status);
  else showPin(status);
}

export async function closeStaff() {
  wipeInputs();
  showError(null);
  $("#staff").hidden = true;
  delete document.body.dataset.staff;
  await api.staffLock().catch(() => {});
  $("#staff-btn").focus();
}

async function submitPin(ev) {
  ev.preventDefault();
  const pin = $("#staff-pin-input").value;
  const again = $("#staff-pin2-input").value;
  wipeInputs();
  showError(null);
  try {
    let status;
    if (pinSet) {
      status = await api.staffUnlock(pin);
    } else {
      if (pin !== again) {
        showError({ code: "INVALID_INPUT", field: "pin", message: t("staff.pin.mismatch") });
        $("#staff-error").textContent = t("staff.pin.mismatch");
        return;
      }
      status = await api.staffSetPin(pin);
    }
    showSettings(status);
  } catch (e) {
    showError(e);
    $("#staff-pin-input").focus();
  }
}

function readSettings() {
  return {
    documentCamera: $("#s-documentCamera").value || null,
    selfieCamera: $("#s-selfieCamera").value || null,
    defaultCountry: $("#s-defaultCountry").value.trim().toUpperCase() || null,
    documents: $$("#s-documents input:checked").map((c) => c.value),
    language: $("#s-language").value,
    idleTimeoutSecs: Number($("#s-idleTimeoutSecs").value || 0),
    kioskMode: $("#s-kioskMode").checked,
    relayUrl: $("#s-relayUrl").value.trim() || null,
  };
}

/** An on-screen keypad in `pad` typing into the input `target()` gives. */
function buildKeypad(pad, target) {
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"];
  for (const k of keys) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.key = k;
    if (k === "clear") {
      b.textContent = "C";
      b.dataset.i18nLabel = "staff.pad.clear";
    } else if (k === "back") {
      b.textContent = "⌫";
      b.dataset.i18nLabel = "staff.pad.back";
    } else {
      b.textContent = k;
    }
    b.addEventListener("click", () => {
      const input = target();
      if (k === "clear") input.value = "";
      else if (k === "back") input.value = input.value.slice(0, -1);
      else if (input.value.length < 12) input.value += k;
      input.focus();
    });
    pad.append(b);
  }
}

export function labelKeypad() {
  for (const b of $$(".keypad [data-i18n-label]")) b.setAttribute("aria-label", t(b.dataset.i18nLabel));
  for (const pad of $$(".keypad")) pad.setAttribute("aria-label", t("staff.pad.label"));
}

// ---------- during a session: accept a photo the framing check refused ----------

function showOverrideError(e) {
  const el = $("#override-error");
  el.hidden = !e;
  el.textContent = e ? deps.errorText(e) : "";
  if (e) deps.announce(el.textContent);
}

export function openOverride() {
  showOverrideError(null);
  $("#override-pin").value = "";
  $("#override").hidden = false;
  document.body.dataset.override = "open";
  $("#override-pin").focus();
}

/**
 * Closes the dialog (also when the photo is gone: next side, cancel, idle).
 * The focus goes back to the button that opened it, or, once the photo was
 * accepted, to Take photo.
 */
export function closeOverride(accepted = false) {
  $("#override-pin").value = "";
  if ($("#override").hidden) return;
  showOverrideError(null);
  $("#override").hidden = true;
  delete document.body.dataset.override;
  const b = accepted ? $("#capture-btn") : $("#override-btn");
  if (!b.hidden && $("section[data-screen='capture']").hidden === false) b.focus();
}

async function submitOverride(ev) {
  ev.preventDefault();
  const pin = $("#override-pin").value;
  $("#override-pin").value = "";
  showOverrideError(null);
  try {
    await api.staffAcceptPhoto(pin);
    closeOverride(true);
    deps.announce(t("override.accepted"));
  } catch (e) {
    showOverrideError(e);
    $("#override-pin").focus();
  }
}

function initOverride() {
  buildKeypad($("#override-keypad"), () => $("#override-pin"));
  $("#override-btn").addEventListener("click", () => openOverride());
  $("#override-back").addEventListener("click", () => closeOverride());
  $("#override-form").addEventListener("submit", submitOverride);
  modalKeys($("#override"), "#override button, #override input", closeOverride);
}

// A dialog's keys: Escape closes it, Tab keeps the focus inside it.
function modalKeys(dialog, focusable, close) {
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "Tab") {
      const items = $$(focusable).filter((el) => el.offsetParent !== null && !el.disabled);
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  });
}

export function initStaff(d) {
  deps = d;
  buildKeypad($("#staff-keypad"), () => padTarget || $("#staff-pin-input"));
  initOverride();
  labelKeypad();
  $("#staff-btn").addEventListener("click", () => openStaff());
  for (const b of $$("[data-staff='close']")) b.addEventListener("click", () => closeStaff());
  for (const id of ["#staff-pin-input", "#staff-pin2-input"]) {
    $(id).addEventListener("focus", () => { padTarget = $(id); });
  }
  $("#staff-pin").addEventListener("submit", submitPin);
  modalKeys($("#staff"), "#staff button, #staff input, #staff select", () => closeStaff());
  $("#staff-settings").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const s = readSettings();
    const status = await guarded(() => api.staffSave(s), "staff.saved");
    if (status) {
      await setLanguage(s.language);
      await deps.refresh();
    }
  });
  $("#staff-secrets").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = {};
    for (const k of SECRETS) {
      const v = $(`#s-${k}`).value.trim();
      if (v) form[k] = v;
    }
    wipeInputs();
    await guarded(() => api.staffSetSecrets(form), "staff.secretsStored");
  });
  // The preview debug overlay is a display choice of this window only.
  $("#s-debugOverlay").addEventListener("change", (e) => deps.setDebug(e.target.checked));
  $("#staff-clear-secrets").addEventListener("click", () =>
    guarded(() => api.staffSetSecrets({ clear: true }), "staff.secretsCleared"));
  $("#staff-newpin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const a = $("#s-newPin").value;
    const b = $("#s-newPin2").value;
    wipeInputs();
    if (a !== b) {
      showError({ code: "INVALID_INPUT", message: "" });
      $("#staff-error").textContent = t("staff.pin.mismatch");
      return;
    }
    await guarded(() => api.staffSetPin(a), "staff.pin.changed");
  });
  $("#staff-restart").addEventListener("click", () => guarded(() => api.staffRestart()));
  $("#staff-exit").addEventListener("click", () => guarded(() => api.staffExit()));
}
