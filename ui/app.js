// Renders the session view that Rust sends, and turns taps into inputs.
// No flow logic lives here: what a screen may offer comes in `view.allowed`.

import { api } from "./api.js";
import { t, has, setLanguage, applyStatic } from "./i18n.js";
import { initStaff, labelKeypad, closeOverride } from "./staff.js";
import { documentChips } from "./widgets.js";
import { formatDuration, backOfficeText } from "./format.js";
import { initCountry, setCountry, countryCode, relabelCountry } from "./country.js";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

let info = null;
let view = null;
let version = 0;
let previewOn = false;
let lastQrFor = null;
let debug = false;

function announce(text) {
  const live = $("#live");
  if (live.textContent !== text) live.textContent = text;
}

function fmtTime(secs) {
  return formatDuration(secs, t);
}

/** The back office's link on the start screen and in the staff panel. */
function renderBackOffice() {
  const bo = info ? info.backOffice : null;
  const text = backOfficeText(bo, t);
  for (const el of [$("#back-office"), $("#staff-back-office")]) {
    el.hidden = !bo;
    el.textContent = text;
    el.dataset.state = bo ? bo.state : "";
  }
  if (bo) document.body.dataset.backOffice = bo.state;
  else delete document.body.dataset.backOffice;
}

/**
 * Follows the link as Rust checks it in the background: often while the
 * first check runs, then every few seconds (the command never waits).
 */
async function backOfficeLoop() {
  for (;;) {
    const checking = !info.backOffice || info.backOffice.state === "checking";
    await new Promise((r) => setTimeout(r, checking ? 500 : 5000));
    try {
      info.backOffice = await api.backOffice();
      renderBackOffice();
    } catch (e) {
      // The kiosk is gone (restart): nothing to show.
    }
  }
}

function errorText(err) {
  if (!err) return "";
  const key = `error.${err.code}`;
  // API refusals carry the vendor's own sentence: show it after ours.
  if (err.code === "API_REJECTED" || err.code === "INVALID_INPUT") {
    return `${t(key)} ${err.message}`.trim();
  }
  return has(key) ? t(key) : err.message;
}

async function send(input) {
  try {
    await api.input(input);
  } catch (e) {
    showToast(errorText(e));
  }
}

function showToast(text) {
  announce(text);
  const el = $("#start-error");
  if (view && view.screen === "start") {
    el.textContent = text;
    el.hidden = false;
  }
}

// ---------- screens ----------

function renderStart() {
  const docs = $("#f-documents");
  if (!docs.childElementCount && info) {
    documentChips(docs, info.documentTypes, info.documents);
    if (info.defaultCountry && !$("#f-country").value) setCountry(info.defaultCountry);
  }
}

function renderChoice() {
  const box = $("#choice-docs");
  box.replaceChildren();
  for (const d of view.documents) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "primary big";
    b.dataset.doc = d;
    b.textContent = t(`doc.${d}`);
    b.addEventListener("click", () => send({ kind: "verifyHere", document: d }));
    box.append(b);
  }
  $("#choice-phone-box").hidden = !view.canHandOff;
}

async function renderHandoff() {
  const digits = view.digitString || "";
  $("#handoff-digits").textContent = digits.replace(/(\d{4})(\d{4})/, "$1 $2");
  $("#handoff-digits").setAttribute("aria-label", digits.split("").join(" "));
  if (view.secondsLeft != null) $("#handoff-expiry").textContent = t("handoff.expires", { time: fmtTime(view.secondsLeft) });
  if (digits && lastQrFor !== digits) {
    lastQrFor = digits;
    try {
      const svg = await api.handoffQr();
      $("#handoff-qr").src = `data:image/svg+xml;base64,${btoa(svg)}`;
      $("#handoff-qr").alt = digits;
    } catch (e) {
      announce(errorText(e));
    }
  }
}

function renderCapture() {
  const side = view.side;
  $("#capture-title").textContent = side ? t(`capture.title.${side}`) : "";
  const steps = $("#capture-steps");
  steps.replaceChildren();
  for (const s of view.sides) {
    const li = document.createElement("li");
    li.textContent = t(`side.${s.side}`);
    if (s.taken) li.classList.add("done");
    if (s.side === side) li.setAttribute("aria-current", "step");
    steps.append(li);
  }
  $("#guide").className = `guide ${side === "FACE" ? "face" : side === "UTILITY_BILL" ? "page" : "card"}`;
  const status = $("#camera-status");
  if (view.error) {
    status.textContent = errorText(view.error);
    status.hidden = false;
  } else if (!view.cameraReady) {
    status.textContent = t("capture.cameraWaiting");
    status.hidden = false;
  } else if (view.capturing) {
    status.textContent = t("capture.capturing");
    status.hidden = false;
  } else {
    status.hidden = true;
  }
  if (view.hint) {
    const key = view.hint.detail ? `hint.${view.hint.detail}` : null;
    const text = key && has(key) ? t(key) : view.hint.message;
    $("#hint").textContent = text;
    $("#hint").dataset.ok = "0";
    $("#hint").dataset.retake = view.hint.detail || "api";
    announce(text);
  } else {
    delete $("#hint").dataset.retake;
  }
  $("#capture-btn").disabled = !view.allowed.includes("capture") || view.capturing;
  // Staff may accept the photo the framing check just refused (with the
  // PIN); once it is gone (retaken, next side) the offer goes too.
  const canOverride = view.allowed.includes("override");
  $("#override-btn").hidden = !canOverride;
  if (!canOverride) closeOverride();
  if (side !== prominentSide) {
    // A new side: auto-capture gets its 10 s before the button takes over.
    prominentSide = side;
    clearTimeout(prominentTimer);
    $("#capture-btn").dataset.prominent = "0";
    prominentTimer = setTimeout(() => { $("#capture-btn").dataset.prominent = "1"; }, PROMINENT_AFTER_MS);
  }
  fitPreview();
  startPreview();
}

// Take photo becomes the prominent action after this long on one side without
// an automatic capture (customers give up on auto-capture that never fires).
const PROMINENT_AFTER_MS = 10000;
let prominentSide = null;
let prominentTimer = null;

function leaveCapture() {
  prominentSide = null;
  clearTimeout(prominentTimer);
  $("#capture-btn").dataset.prominent = "0";
}

/** Size the preview to the height the capture screen leaves for it, so the
 * preview, the hint and Take photo are all on screen at any window size. */
function fitPreview() {
  const sec = document.querySelector("section[data-screen='capture']");
  const wrap = $(".preview-wrap");
  if (!sec || sec.hidden) return;
  const main = $("#app");
  const ms = getComputedStyle(main);
  let avail = main.clientHeight - parseFloat(ms.paddingTop) - parseFloat(ms.paddingBottom);
  for (const el of sec.children) {
    if (el === wrap || el.hidden) continue;
    const cs = getComputedStyle(el);
    avail -= el.offsetHeight + parseFloat(cs.marginTop) + parseFloat(cs.marginBottom);
  }
  const width = Math.max(160, Math.min(sec.clientWidth, 960, Math.floor(avail * 16 / 9)));
  wrap.style.maxWidth = `${width}px`;
}

async function renderReview() {
  const box = $("#review-stills");
  box.replaceChildren();
  for (const s of view.sides) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = t(`side.${s.side}`);
    const cap = document.createElement("figcaption");
    cap.textContent = t(`side.${s.side}`);
    if (s.acceptedByStaff) {
      // Staff accepted this photo after the framing check refused it.
      const mark = document.createElement("span");
      mark.className = "staff-mark";
      mark.dataset.acceptedByStaff = "1";
      mark.textContent = ` — ${t("review.acceptedByStaff")}`;
      cap.append(mark);
    }
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.dataset.retake = s.side;
    b.textContent = t("review.retake");
    b.addEventListener("click", () => send({ kind: "retake", side: s.side }));
    fig.append(img, cap, b);
    box.append(fig);
    api.stillImage(s.side).then((buf) => {
      const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : buf;
      const url = URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" }));
      // The blob has its own copy: overwrite the one received.
      if (bytes instanceof Uint8Array) bytes.fill(0);
      img.onload = () => URL.revokeObjectURL(url);
      img.src = url;
    }).catch(() => {});
  }
}

function tagList(title, tags) {
  const wrap = document.createElement("div");
  if (!tags.length) return wrap;
  const h = document.createElement("h2");
  h.textContent = title;
  const ul = document.createElement("ul");
  ul.className = "tags";
  for (const tag of tags) {
    const li = document.createElement("li");
    li.dataset.tag = tag.code;
    const key = `tag.${tag.code}`;
    // Words for staff, and the code as iDenfy spells it (for support calls).
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = ` (${tag.code})`;
    li.append(has(key) ? t(key) : tag.text, code);
    ul.append(li);
  }
  wrap.append(h, ul);
  return wrap;
}

function renderResult() {
  const r = view.result;
  if (!r) return;
  const box = $("#result-box");
  box.dataset.status = r.status;
  // Whose result this is, and what iDenfy compared with the document.
  $("#result-client").textContent = r.clientId;
  const expected = $("#result-expected");
  expected.dataset.fields = r.expected.join(" ");
  expected.textContent = r.expected.length
    ? r.expected.map((f) => t(`field.${f}`)).join(", ")
    : t("result.expectedNone");
  $("#result-status").textContent = has(`result.${r.status}`) ? t(`result.${r.status}`) : r.status;
  $("#result-headline").textContent = has(`result.headline.${r.status}`) ? t(`result.headline.${r.status}`) : r.headline;
  $("#result-advice").textContent = has(`result.advice.${r.status}`) ? t(`result.advice.${r.status}`) : r.advice;
  const tags = $("#result-tags");
  tags.replaceChildren(tagList(t("result.fraudTags"), r.fraudTags), tagList(t("result.mismatchTags"), r.mismatchTags));
  const checks = $("#result-checks");
  checks.replaceChildren();
  for (const [k, v] of [["result.document", r.document], ["result.face", r.face]]) {
    if (!v) continue;
    const dt = document.createElement("dt");
    dt.textContent = t(k);
    const dd = document.createElement("dd");
    dd.dataset.code = v;
    const key = `check.${v}`;
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = ` (${v})`;
    if (has(key)) dd.append(t(key), code);
    else dd.textContent = v;
    checks.append(dt, dd);
  }
  announce(`${$("#result-status").textContent}. ${$("#result-headline").textContent}`);
}

function renderUnderReview() {
  const box = $("[data-screen='underReview'] [data-role='result-summary']");
  box.textContent = view.result ? `${t("result.provisional")} ${view.result.status}` : "";
}

let prevScreen = null;
// What the choice or review screen was last drawn from. The view changes
// every second (the countdowns): drawing those screens again each time
// would fetch every photo again (one more copy of each per second) and
// replace the buttons under the customer's finger.
let drawn = null;
function redraw(content, draw) {
  const key = JSON.stringify([view.screen, document.documentElement.lang, content]);
  if (key === drawn) return;
  drawn = key;
  draw();
}
// The view's wipe count last seen: when it changes, the customer's data was
// wiped (next customer, cancel, idle time, also on the start screen itself).
let seenWipes = null;

// A new screen takes the keyboard focus at its heading (or the section), so
// Tab continues inside it and a screen reader reads where the customer is.
function focusScreen(screen) {
  const section = $(`section[data-screen='${screen}']`);
  if (!section) return;
  const target = $("h1", section) || section;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: true });
}

function render() {
  const screen = view.screen;
  const wiped = seenWipes !== null && view.wipes !== seenWipes;
  seenWipes = view.wipes;
  if (wiped || (screen === "start" && prevScreen && prevScreen !== "start")) {
    // The session was wiped: nothing of the last customer stays on screen.
    $("#start-error").hidden = true;
    $("#start-error").textContent = "";
    $("#start-form").reset();
    $("#f-billAddress-wrap").hidden = true;
    for (const el of $$("[aria-invalid]")) el.removeAttribute("aria-invalid");
    $("#review-stills").replaceChildren();
    $("#result-client").textContent = "";
    $("#result-expected").textContent = "";
    $("#preview").removeAttribute("src");
    $("#handoff-qr").removeAttribute("src");
    $("#handoff-digits").textContent = "";
    setCountry(info ? info.defaultCountry : null);
  }
  const changed = prevScreen !== screen;
  prevScreen = screen;
  document.body.dataset.screen = screen;
  for (const s of $$("[data-screen]")) s.hidden = s.dataset.screen !== screen;
  if (changed && $("#staff").hidden) focusScreen(screen);
  if (screen !== "capture") { stopPreview(); leaveCapture(); closeOverride(); }
  if (screen !== "handoff") lastQrFor = null;
  if (screen !== "start") $("#start-error").hidden = true;

  $("#cancel-btn").hidden = !view.allowed.includes("cancel");
  // Staff functions only between customers.
  $("#staff-btn").hidden = screen !== "start";
  if (screen !== "start" && !$("#staff").hidden) $("#staff").hidden = true;
  for (const b of $$("[data-input]")) {
    b.hidden = !view.allowed.includes(b.dataset.input);
  }
  for (const el of $$("[data-role='error']")) el.textContent = errorText(view.error);

  const cd = $("#countdown");
  if (view.secondsLeft != null && view.countdown) {
    cd.textContent = t(`countdown.${view.countdown}`, { time: fmtTime(view.secondsLeft) });
    cd.hidden = false;
  } else {
    cd.hidden = true;
  }

  const idle = $("#idle");
  if (view.idleSecondsLeft != null) {
    $("#idle-text").textContent = t("idle.text", { n: view.idleSecondsLeft });
    idle.hidden = false;
  } else {
    idle.hidden = true;
  }

  if (changed || wiped) drawn = null;
  switch (screen) {
    case "start": renderStart(); break;
    case "choice": redraw([view.documents, view.canHandOff], renderChoice); break;
    case "handoff": renderHandoff(); break;
    case "capture": renderCapture(); break;
    case "review": redraw([view.sides], renderReview); break;
    case "result": renderResult(); break;
    case "underReview": renderUnderReview(); break;
    case "error":
    case "submitFailed": announce(errorText(view.error)); break;
    default: break;
  }
}

// ---------- preview: pull the newest frame, latest frame wins ----------

let previewSeq = 0;
let fps = 0;
let frames = 0;
let fpsSince = performance.now();

// Each pull loop's number: a loop stopped (the screen changed, the session
// was wiped) while a frame was on its way drops that frame instead of
// painting it over the next screen, and a restart never runs two loops.
let previewLoop = 0;

function startPreview() {
  if (previewOn) return;
  previewOn = true;
  previewLoop += 1;
  pullFrame(previewLoop);
}

function stopPreview() {
  previewOn = false;
  previewLoop += 1;
}

/** One frame through the chosen transport: {header, jpeg bytes}. */
async function fetchFrame() {
  if (info && info.previewTransport === "scheme") {
    const r = await api.previewFrameScheme(previewSeq);
    if (!r) throw { code: "CAMERA_UNAVAILABLE" };
    return { header: r.header, jpeg: new Uint8Array(r.jpeg) };
  }
  const buf = await api.previewFrame(previewSeq);
  const dv = new DataView(buf);
  const hlen = dv.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hlen)));
  return { header, jpeg: new Uint8Array(buf, 4 + hlen) };
}

/** Show a JPEG in the preview image; false when it could not be decoded.
 *  The pull loop waits for this before asking for the next frame, so frames
 *  the page could not paint in time are never fetched: the newest one wins.
 *  (Decoding with createImageBitmap onto a canvas was measured too: under
 *  WebKitGTK it cost the web view more and halved the rate, BENCHMARKS.md.) */
async function paint(jpeg) {
  const url = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
  const img = $("#preview");
  const ok = await new Promise((resolve) => {
    img.onload = () => resolve(true);
    img.onerror = () => resolve(false);
    img.src = url;
  });
  URL.revokeObjectURL(url);
  return ok;
}

// Capture-to-display latencies of the last frames, for the debug overlay and
// the preview benchmark (exposed as data attributes on <body>).
const latencies = [];

async function pullFrame(loop) {
  while (previewOn && loop === previewLoop) {
    let frame;
    try {
      frame = await fetchFrame();
    } catch (e) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    if (loop !== previewLoop) {
      // Stopped while the frame was on its way: never paint it.
      frame.jpeg.fill(0);
      return;
    }
    const received = performance.now();
    const header = frame.header;
    previewSeq = header.seq;
    if (!(await paint(frame.jpeg))) continue;
    frames += 1;
    const now = performance.now();
    const latency = header.ageMs + (now - received);
    latencies.push(latency);
    if (latencies.length > 120) latencies.shift();
    if (now - fpsSince >= 1000) {
      fps = (frames * 1000) / (now - fpsSince);
      frames = 0;
      fpsSince = now;
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      document.body.dataset.previewFps = fps.toFixed(1);
      document.body.dataset.previewLatencyP50 = at(0.5).toFixed(1);
      document.body.dataset.previewLatencyP95 = at(0.95).toFixed(1);
      document.body.dataset.previewSeq = String(header.seq);
    }
    renderLive(header, latency);
  }
}

/** The outline of the document or face over the preview (0..1 frame
 *  coordinates from the live check), or none. The fixed guide frame shows
 *  where to hold the card only while nothing is found: once the outline
 *  follows the card, a second frame inside it would only confuse. */
function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

function renderOutline(h) {
  const svg = $("#outline");
  const q = h.quality;
  const o = q && q.outline;
  const show = !!o && !!h.width && !!h.height && !view.hint;
  if ($("#guide").hidden !== show) $("#guide").hidden = show;
  if (!show) {
    if (!svg.hasAttribute("hidden")) svg.setAttribute("hidden", "");
    return;
  }
  // Only what changed is written: the verdict comes less often than frames,
  // and every write costs the web view a style and layout pass.
  setAttr(svg, "viewBox", `0 0 ${h.width} ${h.height}`);
  const points = o.map(([x, y]) => `${(x * h.width).toFixed(1)},${(y * h.height).toFixed(1)}`);
  setAttr(svg.querySelector("polygon"), "points", points.join(" "));
  setAttr(svg, "data-ok", q.ok ? "1" : "0");
  if (svg.hasAttribute("hidden")) svg.removeAttribute("hidden");
}

function renderLive(h, latencyMs) {
  renderOutline(h);
  const q = h.quality;
  if (q && !view.hint) {
    const key = q.ok ? "hint.ok" : `hint.${q.issues[0]}`;
    const text = t(key);
    const hint = $("#hint");
    if (hint.textContent !== text) hint.textContent = text;
    setAttr(hint, "data-ok", q.ok ? "1" : "0");
    announce(text);
  }
  const auto = $("#autocap");
  if (h.autoCaptureIn != null) {
    auto.textContent = String(h.autoCaptureIn);
    auto.setAttribute("aria-label", t("capture.auto", { n: h.autoCaptureIn }));
    auto.hidden = false;
  } else if (!auto.hidden) {
    auto.hidden = true;
  }
  const dbg = $("#debug-overlay");
  if (dbg.hidden !== !debug) dbg.hidden = !debug;
  if (debug) dbg.textContent = `${fps.toFixed(1)} fps · ${latencyMs.toFixed(0)} ms · ${h.width}×${h.height}`;
  // For tests and measurements: a frame was shown (refreshed once a second
  // with the rates below; an attribute of <body> changed per frame would
  // restyle the page per frame).
  if (!document.body.dataset.previewSeq) document.body.dataset.previewSeq = String(h.seq);
}

// ---------- wiring ----------

async function viewLoop() {
  for (;;) {
    try {
      const r = await api.view(version);
      version = r.version;
      view = r.view;
      render();
    } catch (e) {
      await new Promise((res) => setTimeout(res, 500));
    }
  }
}

function readForm() {
  const f = $("#start-form");
  const val = (n) => f.elements[n].value.trim();
  return {
    clientId: val("clientId"),
    country: countryCode(),
    firstName: val("firstName") || null,
    lastName: val("lastName") || null,
    dateOfBirth: val("dateOfBirth") || null,
    documentNumber: val("documentNumber") || null,
    documents: $$("input[name='documents']:checked", f).map((c) => c.value),
    tokenType: f.elements.tokenType.value,
    allowPhone: f.elements.allowPhone.checked,
    proofOfAddress: f.elements.proofOfAddress.checked,
    billAddress: (f.elements.proofOfAddress.checked && val("billAddress")) || null,
    // Only when this kiosk starts sessions for staff only (the field shows).
    staffPin: f.elements.staffPin.value || null,
  };
}

function bind() {
  // The compare address belongs to the proof of address: shown with it.
  $("#f-proofOfAddress").addEventListener("change", (ev) => {
    $("#f-billAddress-wrap").hidden = !ev.target.checked;
  });
  $("#start-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const el of $$("[aria-invalid]")) el.removeAttribute("aria-invalid");
    $("#start-error").hidden = true;
    const form = readForm();
    $("#f-staffPin").value = "";
    try {
      await api.start(form);
    } catch (e) {
      if (e.field) {
        const el = document.getElementById(`f-${e.field}`);
        if (el) {
          el.setAttribute("aria-invalid", "true");
          el.focus();
        }
      }
      showToast(errorText(e));
    }
  });
  $("#choice-phone").addEventListener("click", () => send({ kind: "continueOnPhone" }));
  $("#capture-btn").addEventListener("click", () => send({ kind: "capture" }));
  $("#confirm-btn").addEventListener("click", () => send({ kind: "confirm" }));
  $("#cancel-btn").addEventListener("click", () => send({ kind: "cancel" }));
  $("#idle-stay").addEventListener("click", () => send({ kind: "touch" }));
  for (const b of $$("[data-input]")) b.addEventListener("click", () => send({ kind: b.dataset.input }));

  // Any touch or key keeps the session alive (throttled).
  let lastTouch = 0;
  const touch = () => {
    const now = Date.now();
    // On the start screen too: a form being filled in arms the idle reset.
    if (now - lastTouch > 2000 && view) {
      lastTouch = now;
      api.input({ kind: "touch" }).catch(() => {});
    }
  };
  document.addEventListener("pointerdown", touch, { capture: true });
  document.addEventListener("keydown", (e) => {
    touch();
    // Staff toggle for the preview debug overlay (also in the staff settings).
    if (e.key === "F9") debug = !debug;
  }, { capture: true });

  const sel = $("#lang-select");
  sel.addEventListener("change", async () => {
    await setLanguage(sel.value);
    await api.setLanguage(sel.value).catch(() => {});
    labelKeypad();
    relabelCountry();
    if (info) renderBanners();
    if (info) renderBackOffice();
    if (info && info.startupError) renderStartupError();
    if (view) render();
  });

  initStaff({
    errorText,
    announce,
    debug: () => debug,
    setDebug: (on) => { debug = on; },
    languages: () => (info ? info.languages : []),
    documentTypes: () => (info ? info.documentTypes : []),
    // Settings saved: new form defaults and language from Rust.
    refresh: async () => {
      info = await api.appInfo();
      renderBackOffice();
      $("#lang-select").value = info.language;
      labelKeypad();
      const docs = $("#f-documents");
      for (const cb of $$("input[name='documents']", docs)) cb.checked = info.documents.includes(cb.value);
      if (info.defaultCountry) setCountry(info.defaultCountry);
      if (view) render();
    },
  });
}

/** The banners that say which API this is: the sandbox, or a test API. */
function renderBanners() {
  document.getElementById("sandbox-banner").hidden = !info.sandbox;
  const test = document.getElementById("test-api-banner");
  test.hidden = !info.testApi;
  test.textContent = info.testApi ? t("banner.testApi", { url: info.testApi }) : "";
}

/**
 * The kiosk did not start: the cause in words, no session functions; the
 * staff button stays (exit with the PIN).
 */
function renderStartupError() {
  const err = info.startupError;
  document.body.dataset.screen = "startupError";
  document.body.dataset.startupError = err.code;
  for (const s of $$("[data-screen]")) s.hidden = s.dataset.screen !== "startupError";
  const key = `error.${err.code}`;
  $("#startup-cause").textContent = has(key) ? t(key) : err.message;
  // Rust's own words name the field or the cause (never a secret).
  $("#startup-detail").textContent = err.message;
  $("#staff-btn").hidden = false;
}

async function main() {
  bind();
  try {
    info = await api.appInfo();
  } catch (e) {
    $("[data-screen='loading'] p").textContent = e.message;
    document.body.dataset.error = e.code;
    return;
  }
  const sel = $("#lang-select");
  for (const l of info.languages) {
    const o = document.createElement("option");
    o.value = l.code;
    o.textContent = l.name;
    sel.append(o);
  }
  sel.value = info.language;
  await setLanguage(info.language).catch(() => setLanguage("en"));
  initCountry($("#f-country"), $("#country-list"), info.countries);
  applyStatic();
  labelKeypad();
  document.body.dataset.kiosk = info.kioskMode ? "1" : "0";
  renderBanners();
  document.getElementById("f-staffPin-wrap").hidden = !info.startRequiresStaff;
  document.getElementById("footer").textContent = `kyc-kiosk ${info.version}`;
  if (info.startupError) {
    renderStartupError();
    document.body.dataset.ready = "1";
    return;
  }
  renderBackOffice();
  document.body.dataset.ready = "1";
  window.addEventListener("resize", fitPreview);
  viewLoop();
  if (info.backOffice) backOfficeLoop();
}

main();
