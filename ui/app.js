import { api } from "./api.js";

async function start() {
  const status = document.getElementById("status");
  try {
    const info = await api.appInfo();
    document.getElementById("sandbox-banner").hidden = !info.sandbox;
    document.getElementById("footer").textContent = `kyc-kiosk ${info.version}`;
    status.textContent = "Ready.";
    document.body.dataset.ready = "1";
  } catch (e) {
    status.textContent = e.message;
    document.body.dataset.error = e.code;
  }
}

start();
