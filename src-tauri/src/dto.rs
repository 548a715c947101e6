//! View types sent to the webview. Only what the screen needs; never a secret.

use serde::Serialize;

/// Static facts about the running app, for the banner and the footer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: &'static str,
    /// True when the embedded sandbox is in use: the UI shows a SANDBOX banner.
    pub sandbox: bool,
    pub language: String,
    pub default_country: Option<String>,
    pub documents: Vec<String>,
}
