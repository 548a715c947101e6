// Pure formatting helpers: the words come from the catalog function `t`
// given by the caller, so these run (and are tested) without the app.

/**
 * A time left for the screen: "24 h 00 min" style (localised) from an hour
 * up, "m:ss" below, "Ns" under a minute.
 */
export function formatDuration(secs, t) {
  const total = Math.max(0, Math.floor(Number(secs) || 0));
  if (total >= 3600) {
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    return t("time.hoursMinutes", { h, m: String(m).padStart(2, "0") });
  }
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m > 0 ? `${m}:${String(s).padStart(2, "0")}` : `${s}s`;
}

/** "Back office: connected as NAME" or why not; "" when there is none. */
export function backOfficeText(bo, t) {
  if (!bo) return "";
  if (bo.state === "connected") {
    const name = bo.branch ? `${bo.name} (${bo.branch})` : bo.name;
    return t("backOffice.connected", { name });
  }
  return t(`backOffice.${bo.state}`);
}
