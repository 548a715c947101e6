//! `GET /fleet`: a small server-rendered page for IT, behind the admin
//! credential (`KYC_KIOSK_RELAY_ADMIN_KEY`; HTTP Basic with any user name and
//! the key as password, so a browser asks for it, or `Bearer`). Without a key
//! configured the page is off. Each kiosk, its branch, when it was last seen,
//! its app version, whether it is connected and when its last result came:
//! no personal data.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::kiosks::{self, Listed};
use crate::server::AppState;

/// Whether the request carries the admin key.
fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(key) = &st.settings.admin_key else {
        return false;
    };
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let given = if let Some(b) = v.strip_prefix("Basic ") {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .and_then(|s| s.split_once(':').map(|(_, p)| p.to_owned()))
    } else {
        v.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
    };
    given.is_some_and(|g| {
        let a = Sha256::digest(g.as_bytes());
        let b = Sha256::digest(key.expose().as_bytes());
        bool::from(a.as_slice().ct_eq(b.as_slice()))
    })
}

/// The handler.
pub async fn page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if st.settings.admin_key.is_none() {
        return (
            StatusCode::NOT_FOUND,
            "the fleet page is off: set KYC_KIOSK_RELAY_ADMIN_KEY",
        )
            .into_response();
    }
    if !authorized(&st, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"kyc-kiosk-relay fleet\", charset=\"UTF-8\"",
            )],
            "admin credential required",
        )
            .into_response();
    }
    match kiosks::list(&st.pool).await {
        Ok(list) => ([(header::CACHE_CONTROL, "no-store")], Html(render(&list))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "fleet page: database error");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The page for `list`.
#[must_use]
pub fn render(list: &[Listed]) -> String {
    let active = list.iter().filter(|k| k.revoked_at.is_none()).count();
    let connected = list.iter().filter(|k| k.connected).count();
    let mut rows = String::new();
    for k in list {
        let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "—".to_owned(), esc);
        let state = if k.revoked_at.is_some() {
            "<td class=revoked>revoked</td>"
        } else if k.connected {
            "<td class=up>connected</td>"
        } else {
            "<td class=down>not connected</td>"
        };
        rows.push_str(&format!(
            "<tr data-kiosk=\"{id}\"><td>{name}</td><td>{branch}</td>{state}<td>{seen}</td><td>{ver}</td><td>{last}</td><td class=id>{id}</td></tr>\n",
            id = k.id,
            name = esc(&k.name),
            branch = opt(&k.branch),
            seen = opt(&k.last_seen_at),
            ver = opt(&k.app_version),
            last = opt(&k.last_result_at),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
<meta name=viewport content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=refresh content=30><title>Kiosk fleet</title>\
<style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}\
td,th{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}}\
.up{{color:#080}}.down{{color:#a60}}.revoked{{color:#a00}}.id{{color:#888;font-family:monospace}}</style>\
</head><body><h1>Kiosk fleet</h1>\
<p id=summary>{active} kiosks enrolled, {connected} connected (a request within the last minute). Times in UTC.</p>\
<table><thead><tr><th>Kiosk</th><th>Branch</th><th>State</th><th>Last seen</th><th>App version</th><th>Last result</th><th>Id</th></tr></thead>\
<tbody>\n{rows}</tbody></table></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        let k = Listed {
            id: uuid::Uuid::nil(),
            name: "<script>x</script>".into(),
            branch: Some("A&B".into()),
            created_at: "2025-01-01T00:00:00Z".into(),
            revoked_at: None,
            last_seen_at: None,
            app_version: None,
            last_result_at: None,
            connected: false,
        };
        let html = render(&[k]);
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("A&amp;B"));
    }
}
