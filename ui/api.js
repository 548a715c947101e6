// The only place in the UI that talks to Rust. Every call goes through
// `call`, which returns the command's value or throws {code, message, field};
// the UI branches on `code` (a stable ErrorCode), never on message text.

function invoke(cmd, args) {
  const internals = window.__TAURI_INTERNALS__;
  if (!internals) {
    return Promise.reject({ code: "INTERNAL", message: "Not running inside the kiosk app." });
  }
  return internals.invoke(cmd, args);
}

async function call(cmd, args = {}) {
  try {
    return await invoke(cmd, args);
  } catch (e) {
    if (e && typeof e === "object" && "code" in e) throw e;
    throw { code: "INTERNAL", message: String(e) };
  }
}

export const api = {
  /** Version, sandbox flag, form defaults, the accepted document types, languages. */
  appInfo: () => call("app_info"),
  /** The back office's link: {state: "connected", name, branch} | {state: "refused"} | ... | null. */
  backOffice: () => call("back_office"),
  /** The session view, once its version is newer than `after` (long poll). */
  view: (after) => call("session_view", { after }),
  /** Start a session from the staff form. */
  start: (form) => call("session_start", { form }),
  /** Any other input: {kind: "verifyHere", document} | {kind: "capture"} | ... */
  input: (input) => call("session_input", { input }),
  /** The newest preview frame after `after`: ArrayBuffer (header + JPEG). */
  previewFrame: (after) => call("preview_frame", { after }),
  /**
   * The same frame through the custom URI scheme (measurement transport):
   * {header, jpeg: ArrayBuffer} or null when none came in time.
   */
  previewFrameScheme: async (after) => {
    const internals = window.__TAURI_INTERNALS__;
    // convertFileSrc gives the platform's form of the scheme's URL (it
    // escapes its argument, so the query is added after).
    const url = `${internals.convertFileSrc("frame", "preview")}?after=${after}`;
    const res = await fetch(url, { cache: "no-store" });
    if (res.status !== 200) return null;
    return { header: JSON.parse(res.headers.get("X-Preview")), jpeg: await res.arrayBuffer() };
  },
  /** The still of a side for the review screen: ArrayBuffer (JPEG). */
  stillImage: (side) => call("still_image", { side }),
  /** The handoff QR code as an SVG string. */
  handoffQr: () => call("handoff_qr"),
  /** Change the UI language (also used as the token's locale). */
  setLanguage: (language) => call("set_language", { language }),

  // Staff functions. Rust checks the PIN gate for each; secrets go in and
  // never come back (only "stored or not").
  /** {pinSet, unlocked, lockedSecs, settings?, cameras, secrets?, ...} */
  staffStatus: () => call("staff_status"),
  staffUnlock: (pin) => call("staff_unlock", { pin }),
  staffLock: () => call("staff_lock"),
  staffSetPin: (pin) => call("staff_set_pin", { pin }),
  staffSave: (settings) => call("staff_save", { settings }),
  /** {apiKey?, apiSecret?, signingKey?, relayKey?} or {clear: true} */
  staffSetSecrets: (secrets) => call("staff_set_secrets", { secrets }),
  staffRestart: () => call("staff_restart"),
  /** During a session: accept the photo the framing check refused (with the PIN). */
  staffAcceptPhoto: (pin) => call("staff_accept_photo", { pin }),
  staffExit: () => call("staff_exit"),
};
