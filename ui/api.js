// The only place in the UI that talks to Rust. Every call goes through
// `call`, which returns the command's value or throws {code, message}; the
// UI branches on `code` (a stable ErrorCode), never on message text.

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
  appInfo: () => call("app_info"),
};
