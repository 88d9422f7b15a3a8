//! Webhook rules (see docs/webhooks.md): event types, Standard Webhooks signatures, the retry schedule,
//! `Retry-After`, and which endpoint URLs and addresses are allowed.

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Duration,
};

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::wire::wire_enum;

/// A delivery waiting for its next attempt.
pub const PENDING: &str = "pending";
/// Delivered: the endpoint answered 2xx.
pub const SUCCEEDED: &str = "succeeded";
/// Given up: attempts exhausted, or the endpoint answered 410 and was disabled.
pub const FAILED: &str = "failed";

wire_enum!(
    /// What happened, as the `type` of an event.
    EventType {
        /// A finding was raised.
        FindingCreated => "finding.created",
        /// A finding changed, its status excepted.
        FindingUpdated => "finding.updated",
        /// A finding's status changed (with or without other fields).
        FindingStatusChanged => "finding.status_changed",
        /// A control changed.
        ControlUpdated => "control.updated",
        /// Evidence was added.
        EvidenceCreated => "evidence.created",
        /// Evidence was accepted or rejected.
        EvidenceReviewed => "evidence.reviewed",
        /// Evidence reached the end of its validity.
        EvidenceExpired => "evidence.expired",
        /// An asset was added to the inventory.
        AssetCreated => "asset.created",
        /// An asset changed (its status included).
        AssetUpdated => "asset.updated",
        /// A risk was registered.
        RiskCreated => "risk.created",
        /// A risk changed (its rating, treatment, controls or an acceptance's revocation).
        RiskUpdated => "risk.updated",
        /// A risk's residual level was formally accepted.
        RiskAccepted => "risk.accepted",
        /// A supplier was added.
        SupplierCreated => "supplier.created",
        /// A supplier changed.
        SupplierUpdated => "supplier.updated",
        /// A supplier's security review was completed.
        SupplierReviewCompleted => "supplier.review_completed",
        /// A CycloneDX BOM was imported into the asset inventory.
        AssetsImported => "assets.imported",
        /// A framework's readiness score or level changed.
        ReadinessScoreChanged => "readiness.score_changed",
    }
);

/// The prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret from random bytes: `whsec_` + standard base64.
pub fn secret_from_bytes(bytes: &[u8]) -> String {
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The Standard Webhooks 1.0 signature of one message: `v1,` + base64 of the HMAC-SHA256 of
/// `{id}.{timestamp}.{body}`, keyed with the secret's decoded bytes. `None` for a malformed secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX)?)
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one space-separated signature per active secret (two while
/// a rotated secret is still honoured).
pub fn signature_header(secrets: &[&str], msg_id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Delays before each retry, after the first attempt fails: about a day in all.
pub const DEFAULT_RETRY_SCHEDULE: [Duration; 8] = [
    Duration::from_secs(5),
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(8 * 3600),
];

/// The longest `Retry-After` honoured; longer asks wait this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// When to try again after `failed_attempts` failures: the schedule's delay with ±20 % jitter
/// (`jitter` in `[0, 1)`), or the receiver's `Retry-After` when it gave one (capped at a day).
/// `None` once the schedule is exhausted: the delivery has failed for good.
pub fn next_retry(
    schedule: &[Duration],
    failed_attempts: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    let base = *schedule.get(index)?;
    if let Some(asked) = retry_after {
        return Some(asked.min(MAX_RETRY_AFTER));
    }
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Some(base.mul_f64(factor))
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Whether an address is one an endpoint must not reach: loopback, private, link-local,
/// shared (CGNAT), unique-local, unspecified, broadcast, multicast or documentation ranges,
/// IPv4 addresses embedded in IPv6 included.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 to anything
                || v6.segments()[..6] == [0; 6] // IPv4-compatible ::a.b.c.d
                || first == 0x2002 // 6to4 tunnels to any IPv4 address
        }
    }
}

fn is_forbidden_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlRejected(pub String);

/// Checks an endpoint URL's form: absolute, `https` (or `http` when private targets are
/// allowed), with a host, no credentials and no fragment; an IP-literal host must be public
/// unless private targets are allowed. Host names are resolved and checked by the caller.
pub fn check_url(value: &str, allow_private: bool) -> Result<url::Url, UrlRejected> {
    if value.len() > 2048 {
        return Err(UrlRejected("must be at most 2048 characters".to_owned()));
    }
    let url = url::Url::parse(value).map_err(|e| UrlRejected(format!("is not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(UrlRejected("must use https".to_owned())),
        other => {
            return Err(UrlRejected(format!("must use https, not `{other}`")));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRejected("must not carry credentials".to_owned()));
    }
    if url.fragment().is_some() {
        return Err(UrlRejected("must not have a fragment".to_owned()));
    }
    let host = url
        .host()
        .ok_or_else(|| UrlRejected("must name a host".to_owned()))?;
    if !allow_private {
        let literal = match host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = literal
            && is_forbidden_address(ip)
        {
            return Err(UrlRejected(format!(
                "must not point to a loopback, private or link-local address ({ip})"
            )));
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_their_wire_names() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
            let json = serde_json::to_string(&event).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
        }
        assert_eq!(EventType::parse("finding.deleted"), None);
    }

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // The vector of the Standard Webhooks reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("whsec_not base64!", id, 1, body), None);
        assert_eq!(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, 1, body), None);
        let both = signature_header(&[secret, secret], id, 1614265330, body);
        assert_eq!(both.split(' ').count(), 2);
    }

    #[test]
    fn retries_back_off_with_jitter_and_stop() {
        let schedule = [Duration::from_secs(10), Duration::from_secs(100)];
        assert_eq!(next_retry(&schedule, 0, 0.5, None), None);
        assert_eq!(
            next_retry(&schedule, 1, 0.5, None),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            next_retry(&schedule, 1, 0.0, None),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            next_retry(&schedule, 2, 1.0, None),
            Some(Duration::from_secs(120))
        );
        assert_eq!(next_retry(&schedule, 3, 0.5, None), None);
        // Retry-After wins over the schedule, within a day, but never extends it.
        assert_eq!(
            next_retry(&schedule, 1, 0.5, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            next_retry(&schedule, 1, 0.5, Some(Duration::from_secs(9 * 86_400))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            next_retry(&schedule, 3, 0.5, Some(Duration::from_secs(2))),
            None
        );
        let total: Duration = DEFAULT_RETRY_SCHEDULE.iter().sum();
        assert!(
            (20 * 3600..30 * 3600).contains(&total.as_secs()),
            "{total:?}"
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        let forbidden = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "ff02::1",
        ];
        for ip in forbidden {
            let ip: IpAddr = ip.parse().expect("address");
            assert!(is_forbidden_address(ip), "{ip} should be forbidden");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let parsed: IpAddr = ip.parse().expect("address");
            assert!(!is_forbidden_address(parsed), "{ip} should be allowed");
        }
    }

    #[test]
    fn urls_must_be_https_public_and_plain() {
        assert!(check_url("https://hooks.example.com/annexa?x=1", false).is_ok());
        for bad in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#frag",
            "https://127.0.0.1/",
            "https://[::1]:8443/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/",
            "https://[::ffff:192.168.0.1]/",
            "not a url",
            "/relative",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad} should be refused");
        }
        // The local-setup switch lifts the scheme and address rules, not the others.
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("https://user:pw@127.0.0.1/", true).is_err());
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert!(check_url(&long, false).is_err());
    }
}
