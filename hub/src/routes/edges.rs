//! What every request is held to before its route's rule. The Host it names must be one of
//! the hub's, so a web page in a browser on the LAN, led to the hub by a DNS name that now
//! points at it, cannot drive it. A write carries its route's body type, so no cross-site
//! "simple" request (text/plain, a form) gets through without the browser asking first.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HubError;
use crate::hub::Hub;

/// The names the hub is reached by: those on its certificate and any configured, and the
/// loopback names where it serves plain HTTP on this machine.
#[derive(Debug, Clone, Default)]
pub struct HostNames {
    names: Vec<String>,
    loopback: bool,
}

impl HostNames {
    pub fn new(names: impl IntoIterator<Item = String>, loopback: bool) -> HostNames {
        let names = names.into_iter().map(|n| bare_host(&n).to_ascii_lowercase()).collect();
        HostNames { names, loopback }
    }

    /// Whether `host` (as a Host header has it, port and all) names this hub.
    pub fn admits(&self, host: &str) -> bool {
        let name = bare_host(host).to_ascii_lowercase();
        self.names.contains(&name)
            || (self.loopback && (name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())))
    }
}

/// `hub.example:8640` → `hub.example`, `[::1]:8640` → `::1`.
fn bare_host(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Refuses a request whose Host is not one of the hub's, when the hub knows its names.
pub async fn check_host(State(hub): State<Hub>, request: Request, next: Next) -> Response {
    if let Some(names) = hub.host_names() {
        let host = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
            .unwrap_or_default();
        if !names.admits(&host) {
            tracing::warn!(host, "请求的主机名不是本数据中心的，已拒绝");
            return HubError::UnknownHost(host).into_response();
        }
    }
    next.run(request).await
}

/// The body type a write to `path` must carry: a PDF for a document's file, the bytes of a
/// file for the planning export, a form for the OAuth2 token request (RFC 6749, which
/// proves its client's secret in its Authorization header), JSON for everything else.
pub fn body_type(method: &Method, path: &str) -> Option<&'static str> {
    if !matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        return None;
    }
    Some(match path {
        "/v1/documents/{number}/pdf" => "application/pdf",
        "/v1/imports/planning" => "application/octet-stream",
        "/v1/push/debezium/token" => "application/x-www-form-urlencoded",
        _ => "application/json",
    })
}

/// A write with a body must say it is of its route's type.
pub fn check_body_type(request: &Request, path: &str) -> Result<(), HubError> {
    let Some(expected) = body_type(request.method(), path) else {
        return Ok(());
    };
    let headers = request.headers();
    let empty = headers.get(header::CONTENT_LENGTH).is_some_and(|l| l.as_bytes() == b"0")
        || (!headers.contains_key(header::CONTENT_LENGTH) && !headers.contains_key(header::TRANSFER_ENCODING));
    if empty {
        return Ok(());
    }
    let given = headers.get(header::CONTENT_TYPE).and_then(|t| t.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(HubError::UnsupportedMediaType { expected, given: if given.is_empty() { "（未写明）".into() } else { given.to_owned() } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_the_hubs_by_name_whatever_its_port_and_case() {
        let names = HostNames::new(["Hub.Example.gov.cn".to_owned(), "10.0.0.5".to_owned()], false);
        for host in ["hub.example.gov.cn", "HUB.example.gov.cn:8640", "10.0.0.5:8443"] {
            assert!(names.admits(host), "{host}");
        }
        for host in ["evil.example", "hub.example.gov.cn.evil.example", "127.0.0.1:8640", "localhost", "", "10.0.0.50"] {
            assert!(!names.admits(host), "{host}");
        }
        let local = HostNames::new([], true);
        for host in ["127.0.0.1:8640", "localhost", "[::1]:8640", "127.0.0.2"] {
            assert!(local.admits(host), "{host}");
        }
        assert!(!local.admits("192.168.1.10:8640"));
    }

    #[test]
    fn writes_carry_json_but_files_and_pdfs_their_own_type() {
        assert_eq!(body_type(&Method::GET, "/v1/changes"), None);
        assert_eq!(body_type(&Method::DELETE, "/v1/admin/sessions/{id}"), None);
        assert_eq!(body_type(&Method::POST, "/v1/commands"), Some("application/json"));
        assert_eq!(body_type(&Method::PUT, "/v1/documents/{number}/pdf"), Some("application/pdf"));
        assert_eq!(body_type(&Method::POST, "/v1/imports/planning"), Some("application/octet-stream"));
    }
}
