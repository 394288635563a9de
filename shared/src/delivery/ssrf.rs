//! Destination rules (SSRF protection), kept in one place.
//!
//! A webhook may not be turned against the network Ringhook runs in. Destinations that are, or
//! resolve to, any address for which [`forbidden_reason`] answers are refused unless the
//! deployment's allow-list ([`DestinationPolicy`]) covers them:
//!
//! * IPv4: `0.0.0.0/8` (unspecified), `10/8`, `172.16/12`, `192.168/16` (private), `100.64/10`
//!   (CGNAT), `127/8` (loopback), `169.254/16` (link-local, including the cloud metadata
//!   endpoint `169.254.169.254`), `192.0.0/24` (IETF protocol assignments), `192.0.2/24`,
//!   `198.51.100/24`, `203.0.113/24` (documentation), `198.18/15` (benchmarking), `224/4`
//!   (multicast), `240/4` (reserved), `255.255.255.255` (broadcast);
//! * IPv6: `::` (unspecified), `::1` (loopback), `fe80::/10` (link-local), `fec0::/10`
//!   (site-local), `fc00::/7` (unique-local), `ff00::/8` (multicast), `2001:db8::/32` and
//!   `3fff::/20` (documentation), `100::/64` (discard), `2001::/23` (IETF protocol assignments,
//!   Teredo included), `64:ff9b:1::/48` (local-use NAT64);
//! * IPv6 forms that embed an IPv4 address are judged by that address: IPv4-mapped
//!   (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`, `::ffff:0:0:0/96`), IPv4-compatible
//!   (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
//!
//! Checks happen twice:
//! 1. when a webhook is created or updated, [`check_url_at_creation`] (no I/O): the scheme is
//!    http(s), there is no userinfo, a literal IP — in any form `url` normalizes, e.g.
//!    `http://2130706433/`, `http://0x7f.0.0.1/`, `http://[::ffff:127.0.0.1]/` — is allowed, and
//!    `localhost`/`*.localhost` only if loopback is allowed;
//! 2. at send time, after DNS resolution: [`resolve_checked`], or a reqwest client whose resolver
//!    is an [`SsrfResolver`] (see [`client_builder`]), so a name resolving to `127.0.0.1` is refused
//!    at connect time — no time-of-check/time-of-use gap. reqwest does **not** call the resolver for
//!    IP-literal hosts, so the sender must also run [`check_url_at_creation`] on the URL of every
//!    attempt (cheap).

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use url::{Host, Url};

/// Why a destination cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// The URL is malformed or not acceptable as a webhook destination.
    #[error("invalid destination URL: {0}")]
    InvalidUrl(String),
    /// The destination is, or resolves to, a forbidden address.
    #[error("destination {host} is refused: {reason} addresses are not allowed")]
    Refused { host: String, reason: &'static str },
    /// The name could not be resolved (not a refusal: the attempt failed to connect).
    #[error("could not resolve {host}: {message}")]
    Resolve { host: String, message: String },
}

/// Which forbidden addresses a deployment nevertheless delivers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    allow: Vec<IpNet>,
}

impl DestinationPolicy {
    /// Refuse every forbidden address (production).
    pub fn strict() -> Self {
        Self { allow: Vec::new() }
    }

    /// Allow loopback only (`127.0.0.0/8`, `::1/128`): local runs and tests.
    pub fn loopback() -> Self {
        Self::parse_allow_list("127.0.0.0/8,::1/128").expect("valid CIDRs")
    }

    /// An explicit allow-list: comma-separated CIDRs or single IPs (whitespace ignored);
    /// `""` means strict.
    pub fn parse_allow_list(s: &str) -> Result<Self, String> {
        let mut allow = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = if let Ok(net) = entry.parse::<IpNet>() {
                net.trunc()
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                IpNet::from(ip)
            } else {
                return Err(format!(
                    "invalid entry {entry:?} in the destination allow-list: expected a CIDR \
                     (e.g. 127.0.0.0/8) or an IP address"
                ));
            };
            if !allow.contains(&net) {
                allow.push(net);
            }
        }
        Ok(Self { allow })
    }

    /// The allow-list entries.
    pub fn allow_list(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether the allow-list explicitly covers `ip` (an IPv4-mapped address is also matched as
    /// its IPv4 address).
    fn allow_list_covers(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allow.iter().any(|net| net.contains(&ip) || mapped.is_some_and(|m| net.contains(&m)))
    }

    /// Whether Ringhook may connect to `ip`: not forbidden, or forbidden but allow-listed.
    pub fn is_allowed_ip(&self, ip: IpAddr) -> bool {
        self.refusal(ip).is_none()
    }

    /// The reason `ip` is refused under this policy, if it is.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        forbidden_reason(ip).filter(|_| !self.allow_list_covers(ip))
    }

    /// Whether loopback destinations (and thus `localhost`) are allowed.
    pub fn allows_loopback(&self) -> bool {
        self.is_allowed_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)) || self.is_allowed_ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
    }
}

fn v4_in(ip: Ipv4Addr, net: [u8; 4], prefix: u8) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn v6_in(ip: Ipv6Addr, net: [u16; 8], prefix: u8) -> bool {
    let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
    let [a, b, c, d, e, f, g, h] = net;
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::new(a, b, c, d, e, f, g, h)) & mask)
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RULES: &[([u8; 4], u8, &str)] = &[
        ([255, 255, 255, 255], 32, "broadcast"),
        ([0, 0, 0, 0], 8, "unspecified"),
        ([10, 0, 0, 0], 8, "private"),
        ([172, 16, 0, 0], 12, "private"),
        ([192, 168, 0, 0], 16, "private"),
        ([100, 64, 0, 0], 10, "cgnat"),
        ([127, 0, 0, 0], 8, "loopback"),
        ([169, 254, 0, 0], 16, "link-local"),
        ([192, 0, 0, 0], 24, "ietf-protocol-assignment"),
        ([192, 0, 2, 0], 24, "documentation"),
        ([198, 51, 100, 0], 24, "documentation"),
        ([203, 0, 113, 0], 24, "documentation"),
        ([198, 18, 0, 0], 15, "benchmarking"),
        ([224, 0, 0, 0], 4, "multicast"),
        ([240, 0, 0, 0], 4, "reserved"),
    ];
    RULES.iter().find(|(net, prefix, _)| v4_in(ip, *net, *prefix)).map(|(_, _, reason)| *reason)
}

#[derive(Clone, Copy)]
enum Embedding {
    Mapped,
    Translated,
    Compatible,
    Nat64,
    SixToFour,
}

/// `"<embedding> <v4 reason>"` as a `&'static str`.
macro_rules! embedded_reason {
    ($emb:expr, $reason:expr; $($r:literal),* $(,)?) => {
        match ($emb, $reason) {
            $(
                (Embedding::Mapped, $r) => concat!("ipv4-mapped ", $r),
                (Embedding::Translated, $r) => concat!("ipv4-translated ", $r),
                (Embedding::Compatible, $r) => concat!("ipv4-compatible ", $r),
                (Embedding::Nat64, $r) => concat!("nat64 ", $r),
                (Embedding::SixToFour, $r) => concat!("6to4 ", $r),
            )*
            _ => "embedded forbidden ipv4",
        }
    };
}

fn embedded(emb: Embedding, v4: Ipv4Addr) -> Option<&'static str> {
    let reason = forbidden_v4(v4)?;
    Some(embedded_reason!(emb, reason;
        "broadcast", "unspecified", "private", "cgnat", "loopback", "link-local",
        "ietf-protocol-assignment", "documentation", "benchmarking", "multicast", "reserved",
    ))
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let bits = u128::from(ip);
    let low_v4 = Ipv4Addr::from(bits as u32);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return embedded(Embedding::Mapped, v4);
    }
    if v6_in(ip, [0, 0, 0, 0, 0xffff, 0, 0, 0], 96) {
        // ::ffff:0:a.b.c.d (SIIT, RFC 2765)
        return embedded(Embedding::Translated, low_v4);
    }
    if bits >> 32 == 0 {
        // ::a.b.c.d (deprecated IPv4-compatible)
        return embedded(Embedding::Compatible, low_v4);
    }
    if v6_in(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return embedded(Embedding::Nat64, low_v4);
    }
    if v6_in(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return embedded(Embedding::SixToFour, Ipv4Addr::from((bits >> 80) as u32));
    }
    const RULES: &[([u16; 8], u8, &str)] = &[
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local"),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard"),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, "ietf-protocol-assignment"),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "nat64-local-use"),
    ];
    RULES.iter().find(|(net, prefix, _)| v6_in(ip, *net, *prefix)).map(|(_, _, reason)| *reason)
}

/// Why `ip` is never a valid webhook destination (unless allow-listed), or `None` for an
/// ordinary public address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn is_localhost_name(domain: &str) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// Checks a webhook URL without any I/O: at creation (answer a clear 4xx on error) and before
/// every attempt (reqwest does not resolve IP-literal hosts, so this is their send-time check).
pub fn check_url_at_creation(url: &str, policy: &DestinationPolicy) -> Result<Url, DestinationError> {
    let parsed = Url::parse(url.trim()).map_err(|e| DestinationError::InvalidUrl(e.to_string()))?;
    check_parsed_url(&parsed, policy)?;
    Ok(parsed)
}

/// [`check_url_at_creation`] for an already parsed URL.
pub fn check_parsed_url(url: &Url, policy: &DestinationPolicy) -> Result<(), DestinationError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DestinationError::InvalidUrl(format!("scheme must be http or https, not {:?}", url.scheme())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DestinationError::InvalidUrl(
            "credentials in the URL are not allowed; use the webhook's Basic auth settings".into(),
        ));
    }
    let refused = |host: String, reason| Err(DestinationError::Refused { host, reason });
    match url.host() {
        None => Err(DestinationError::InvalidUrl("a host is required".into())),
        Some(Host::Ipv4(ip)) => match policy.refusal(IpAddr::V4(ip)) {
            Some(reason) => refused(ip.to_string(), reason),
            None => Ok(()),
        },
        Some(Host::Ipv6(ip)) => match policy.refusal(IpAddr::V6(ip)) {
            Some(reason) => refused(ip.to_string(), reason),
            None => Ok(()),
        },
        Some(Host::Domain(d)) => {
            if d.is_empty() {
                Err(DestinationError::InvalidUrl("a host is required".into()))
            } else if is_localhost_name(d) && !policy.allows_loopback() {
                refused(d.to_string(), "loopback")
            } else {
                Ok(())
            }
        }
    }
}

/// Resolves `host` (a name or an IP literal, IPv6 optionally in brackets) and refuses it if
/// **any** resolved address is forbidden and not allow-listed. Returns every address.
pub async fn resolve_checked(
    host: &str,
    port: u16,
    policy: &DestinationPolicy,
) -> Result<Vec<SocketAddr>, DestinationError> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let addrs: Vec<SocketAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| DestinationError::Resolve { host: host.to_string(), message: e.to_string() })?
            .collect()
    };
    if addrs.is_empty() {
        return Err(DestinationError::Resolve { host: host.to_string(), message: "no addresses".into() });
    }
    for addr in &addrs {
        if let Some(reason) = policy.refusal(addr.ip()) {
            return Err(DestinationError::Refused { host: host.to_string(), reason });
        }
    }
    Ok(addrs)
}

/// The creation-time check of a name: a URL whose host resolves to a forbidden address is
/// refused now, with a clear error, rather than at its first attempt. A name that does not
/// resolve (yet), or not within `within`, is accepted: every attempt checks again.
pub async fn check_url_resolves_allowed(
    url: &Url,
    policy: &DestinationPolicy,
    within: std::time::Duration,
) -> Result<(), DestinationError> {
    let Some(Host::Domain(host)) = url.host() else { return Ok(()) };
    let port = url.port_or_known_default().unwrap_or(80);
    match tokio::time::timeout(within, resolve_checked(host, port, policy)).await {
        Ok(Err(e @ DestinationError::Refused { .. })) => Err(e),
        _ => Ok(()),
    }
}

/// A reqwest DNS resolver that applies the destination rules to every resolved address, so one
/// client refuses a name resolving to a forbidden address at connect time.
#[derive(Debug, Clone)]
pub struct SsrfResolver {
    policy: Arc<DestinationPolicy>,
}

impl SsrfResolver {
    pub fn new(policy: Arc<DestinationPolicy>) -> Self {
        Self { policy }
    }
}

impl reqwest::dns::Resolve for SsrfResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest substitutes the URL's port.
            let addrs =
                resolve_checked(&host, 0, &policy).await.map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A reqwest client builder with the destination rules applied: the [`SsrfResolver`], no
/// redirects followed (a 3xx is a failed attempt, and a redirect could point anywhere) and no
/// proxies (an environment proxy would connect on our behalf, past the resolver).
/// Timeouts and the rest are the caller's.
pub fn client_builder(policy: Arc<DestinationPolicy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(SsrfResolver::new(policy)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
}

/// Walks a reqwest error's sources for a [`DestinationError`] (a refusal by [`SsrfResolver`]).
pub fn destination_error_of(err: &reqwest::Error) -> Option<&DestinationError> {
    let mut source: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(e) = source {
        if let Some(d) = e.downcast_ref::<DestinationError>() {
            return Some(d);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// (literal IP, reason) — forbidden under the strict policy.
    const REFUSED_IPS: &[(&str, &str)] = &[
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("10.255.255.255", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("100.64.0.1", "cgnat"),
        ("100.127.255.254", "cgnat"),
        ("fc00::1", "unique-local"),
        ("fd12:3456:789a::1", "unique-local"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("192.0.0.8", "ietf-protocol-assignment"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.254", "benchmarking"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "documentation"),
        ("2001:db8::1", "documentation"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "ipv4-mapped loopback"),
        ("::ffff:10.0.0.1", "ipv4-mapped private"),
        ("::ffff:169.254.169.254", "ipv4-mapped link-local"),
        ("::ffff:100.64.0.1", "ipv4-mapped cgnat"),
        ("::127.0.0.1", "ipv4-compatible loopback"),
        ("::192.168.0.1", "ipv4-compatible private"),
        ("::ffff:0:127.0.0.1", "ipv4-translated loopback"),
        ("::ffff:0:a00:1", "ipv4-translated private"),
        ("64:ff9b::127.0.0.1", "nat64 loopback"),
        ("64:ff9b::a9fe:a9fe", "nat64 link-local"),
        ("2002:7f00:1::", "6to4 loopback"),
        ("2002:a9fe:a9fe::1", "6to4 link-local"),
        ("2001::1", "ietf-protocol-assignment"),
        ("64:ff9b:1::1", "nat64-local-use"),
        ("100::1", "discard"),
    ];

    const PUBLIC_IPS: &[&str] = &[
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "172.15.255.255",
        "172.32.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.1.1",
        "192.169.0.1",
        "11.0.0.1",
        "223.255.255.254",
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "::ffff:0:808:808",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ];

    #[test]
    fn forbidden_reasons_for_literal_addresses() {
        assert!(REFUSED_IPS.len() >= 25);
        let strict = DestinationPolicy::strict();
        for (addr, reason) in REFUSED_IPS {
            assert_eq!(forbidden_reason(ip(addr)), Some(*reason), "{addr}");
            assert!(!strict.is_allowed_ip(ip(addr)), "{addr}");
        }
        for addr in PUBLIC_IPS {
            assert_eq!(forbidden_reason(ip(addr)), None, "{addr}");
            assert!(strict.is_allowed_ip(ip(addr)), "{addr}");
        }
    }

    /// URLs refused at creation under the strict policy, with the expected reason.
    const REFUSED_URLS: &[(&str, &str)] = &[
        ("http://127.0.0.1/hook", "loopback"),
        ("https://127.0.0.1:8443/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "ipv4-mapped loopback"),
        ("http://[::ffff:7f00:1]/", "ipv4-mapped loopback"),
        ("http://[::ffff:0:7f00:1]/", "ipv4-translated loopback"),
        ("http://[::ffff:0:a9fe:a9fe]/", "ipv4-translated link-local"),
        ("http://localhost/", "loopback"),
        ("http://LOCALHOST:3000/x", "loopback"),
        ("http://localhost./", "loopback"),
        ("http://api.localhost/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://0xa.0.0.1/", "private"),
        ("http://172.20.0.5/", "private"),
        ("http://192.168.0.10:8080/", "private"),
        ("http://3232235521/", "private"),
        ("http://100.100.100.200/", "cgnat"),
        ("http://[fd00::1]/", "unique-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://[64:ff9b::7f00:1]/", "nat64 loopback"),
        ("http://[2002:c0a8:1::]/", "6to4 private"),
        ("http://224.0.0.251/", "multicast"),
        ("http://255.255.255.255/", "broadcast"),
        ("http://127.0.0.1./", "loopback"),
        ("http://%31%32%37.0.0.1/", "loopback"),
        ("http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://127.0.0.1#@example.com/", "loopback"),
        ("http://[::ffff:a9fe:a9fe]/", "ipv4-mapped link-local"),
    ];

    #[test]
    fn refused_destination_urls() {
        assert!(REFUSED_URLS.len() >= 25);
        let strict = DestinationPolicy::strict();
        for (url, reason) in REFUSED_URLS {
            match check_url_at_creation(url, &strict) {
                Err(DestinationError::Refused { reason: r, .. }) => {
                    assert_eq!(r, *reason, "{url}")
                }
                other => panic!("{url}: expected a refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_destination_urls() {
        let strict = DestinationPolicy::strict();
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "javascript:alert(1)",
            "not a url",
            "/relative/path",
            "http://user:pass@example.com/",
            "http://user@example.com/",
            "http://:pw@example.com/",
            "http://example.com@127.0.0.1/",
            "http://",
            "http://[::1/",
        ] {
            assert!(
                matches!(check_url_at_creation(url, &strict), Err(DestinationError::InvalidUrl(_))),
                "{url}: {:?}",
                check_url_at_creation(url, &strict)
            );
        }
    }

    #[test]
    fn public_destination_urls_are_accepted() {
        let strict = DestinationPolicy::strict();
        for url in [
            "https://example.com/hooks/1?x=y",
            "http://hooks.example.org:8080/",
            "https://8.8.8.8/",
            "https://[2606:4700:4700::1111]/",
            "http://134744072/",
            "https://localhost.example.com/",
            "https://notlocalhost/",
        ] {
            let parsed = check_url_at_creation(url, &strict).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(matches!(parsed.scheme(), "http" | "https"));
        }
    }

    #[test]
    fn allow_list_overrides_only_what_it_lists() {
        let lo = DestinationPolicy::parse_allow_list("127.0.0.0/8, ::1/128").unwrap();
        assert_eq!(lo, DestinationPolicy::loopback());
        assert!(lo.allows_loopback());
        assert!(lo.is_allowed_ip(ip("127.0.0.1")));
        assert!(lo.is_allowed_ip(ip("127.3.2.1")));
        assert!(lo.is_allowed_ip(ip("::1")));
        assert!(lo.is_allowed_ip(ip("::ffff:127.0.0.1")));
        assert!(!lo.is_allowed_ip(ip("10.0.0.1")));
        assert!(!lo.is_allowed_ip(ip("169.254.169.254")));
        assert!(!lo.is_allowed_ip(ip("::ffff:10.0.0.1")));
        assert!(check_url_at_creation("http://127.0.0.1:9000/", &lo).is_ok());
        assert!(check_url_at_creation("http://localhost:9000/", &lo).is_ok());
        assert!(check_url_at_creation("http://[::1]:9000/", &lo).is_ok());
        assert!(matches!(
            check_url_at_creation("http://10.0.0.1/", &lo),
            Err(DestinationError::Refused { reason: "private", .. })
        ));

        // Single IPs and host bits in CIDRs.
        let one = DestinationPolicy::parse_allow_list("10.0.0.7,192.168.1.9/16,").unwrap();
        assert!(one.is_allowed_ip(ip("10.0.0.7")));
        assert!(!one.is_allowed_ip(ip("10.0.0.8")));
        assert!(one.is_allowed_ip(ip("192.168.200.1")));
        assert!(!one.allows_loopback());
        assert!(check_url_at_creation("http://localhost/", &one).is_err());

        assert_eq!(DestinationPolicy::parse_allow_list("").unwrap(), DestinationPolicy::strict());
        assert_eq!(DestinationPolicy::parse_allow_list(" , ").unwrap(), DestinationPolicy::strict());
        let err = DestinationPolicy::parse_allow_list("127.0.0.0/8,localhost").unwrap_err();
        assert!(err.contains("localhost"), "{err}");
        assert!(DestinationPolicy::parse_allow_list("10.0.0.0/33").is_err());
    }

    #[tokio::test]
    async fn resolve_checked_refuses_localhost_unless_loopback_is_allowed() {
        let strict = DestinationPolicy::strict();
        match resolve_checked("localhost", 80, &strict).await {
            Err(DestinationError::Refused { host, reason }) => {
                assert_eq!(host, "localhost");
                assert!(reason.contains("loopback"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let addrs = resolve_checked("localhost", 8080, &DestinationPolicy::loopback()).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
    }

    #[tokio::test]
    async fn resolve_checked_handles_literals_without_dns() {
        let strict = DestinationPolicy::strict();
        assert_eq!(resolve_checked("8.8.8.8", 443, &strict).await.unwrap(), vec!["8.8.8.8:443".parse().unwrap()]);
        assert!(resolve_checked("[::1]", 80, &strict).await.is_err());
        assert!(matches!(
            resolve_checked("169.254.169.254", 80, &strict).await,
            Err(DestinationError::Refused { reason: "link-local", .. })
        ));
        assert!(resolve_checked("[::1]", 80, &DestinationPolicy::loopback()).await.is_ok());
        assert!(matches!(
            resolve_checked("no-such-host.invalid", 80, &strict).await,
            Err(DestinationError::Resolve { .. })
        ));
    }

    /// A tiny HTTP server that answers every connection with an empty 200.
    async fn ok_server() -> (u16, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn reqwest_client_with_the_resolver_refuses_localhost_under_strict_policy() {
        let (port, server) = ok_server().await;
        let url = format!("http://localhost:{port}/");

        let strict = client_builder(Arc::new(DestinationPolicy::strict())).build().unwrap();
        let err = strict.get(&url).send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        match destination_error_of(&err) {
            Some(DestinationError::Refused { host, reason }) => {
                assert_eq!(host, "localhost");
                assert!(reason.contains("loopback"));
            }
            other => panic!("expected the resolver's refusal, got {other:?} from {err:?}"),
        }

        let allowed = client_builder(Arc::new(DestinationPolicy::loopback())).build().unwrap();
        let resp = allowed.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200);

        // The same through a bare reqwest client with just the resolver installed.
        let bare = reqwest::Client::builder()
            .dns_resolver(Arc::new(SsrfResolver::new(Arc::new(DestinationPolicy::strict()))))
            .no_proxy()
            .build()
            .unwrap();
        assert!(bare.get(&url).send().await.is_err());
        server.abort();
    }
}
