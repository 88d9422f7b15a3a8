//! Request rate limits per key (a caller, a client address): GCRA buckets held in memory, so
//! each replica counts the requests it serves (docs/operations.md, "Rate limits").

use std::{num::NonZeroU32, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DashMapStateStore,
};

use crate::config::Settings;

/// The window a quota is expressed over, in seconds (the `w` of `RateLimit-Policy`).
pub const WINDOW_SECONDS: u64 = 60;

type Buckets =
    RateLimiter<String, DashMapStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// One limit: a quota per minute for each key, with bursts up to a capacity; off when the
/// quota is 0.
pub struct Limiter {
    /// The policy's name in the `RateLimit` headers.
    policy: &'static str,
    /// Requests per window.
    quota: u32,
    buckets: Option<Buckets>,
}

/// A request's standing against a limit: what the `RateLimit` headers say, and whether it
/// must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The policy's name.
    pub policy: &'static str,
    /// Requests per window.
    pub quota: u32,
    /// Requests left now.
    pub remaining: u32,
    /// Seconds until the whole burst capacity is available again (when refused: until the
    /// next request is allowed).
    pub reset_seconds: u64,
    /// When refused: seconds until the next request is allowed.
    pub retry_after: Option<u64>,
}

impl Standing {
    /// The `RateLimit-Policy` header (draft-ietf-httpapi-ratelimit-headers-09).
    pub fn policy_header(&self) -> String {
        format!("\"{}\";q={};w={WINDOW_SECONDS}", self.policy, self.quota)
    }

    /// The `RateLimit` header (draft-ietf-httpapi-ratelimit-headers-09).
    pub fn header(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.policy, self.remaining, self.reset_seconds
        )
    }
}

fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl Limiter {
    /// `per_minute` requests a minute per key (0: no limit), bursts up to `burst` (default: the
    /// per-minute quota).
    pub fn new(policy: &'static str, per_minute: u32, burst: Option<u32>) -> Self {
        let buckets = NonZeroU32::new(per_minute).map(|rate| {
            let burst = burst.and_then(NonZeroU32::new).unwrap_or(rate);
            RateLimiter::dashmap(Quota::per_minute(rate).allow_burst(burst))
                .with_middleware::<StateInformationMiddleware>()
        });
        Self {
            policy,
            quota: per_minute,
            buckets,
        }
    }

    /// Counts one request of `key`: its standing, or `None` when the limit is off.
    pub fn check(&self, key: &str) -> Option<Standing> {
        let buckets = self.buckets.as_ref()?;
        let standing = match buckets.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let quota = snapshot.quota();
                let used = quota.burst_size().get().saturating_sub(remaining);
                Standing {
                    policy: self.policy,
                    quota: self.quota,
                    remaining,
                    reset_seconds: whole_seconds(quota.replenish_interval() * used),
                    retry_after: None,
                }
            }
            Err(refused) => {
                let wait = whole_seconds(refused.wait_time_from(buckets.clock().now())).max(1);
                Standing {
                    policy: self.policy,
                    quota: self.quota,
                    remaining: 0,
                    reset_seconds: wait,
                    retry_after: Some(wait),
                }
            }
        };
        Some(standing)
    }

    /// Drops the buckets of keys that are back at full capacity (memory stays bounded by the
    /// keys seen within a window).
    pub fn forget_idle(&self) {
        if let Some(buckets) = &self.buckets {
            buckets.retain_recent();
            buckets.shrink_to_fit();
        }
    }
}

/// Every limit of a replica.
pub struct RateLimits {
    /// Per authenticated caller (user or service account), on every protected operation.
    pub callers: Limiter,
    /// Per client address, on the token endpoint.
    pub token_clients: Limiter,
}

impl RateLimits {
    /// The limits the settings ask for.
    pub fn new(settings: &Settings) -> Self {
        Self {
            callers: Limiter::new(
                "default",
                settings.rate_limit_per_minute,
                settings.rate_limit_burst,
            ),
            token_clients: Limiter::new("token", settings.token_rate_limit_per_minute, None),
        }
    }

    /// Drops the state of idle keys.
    pub fn forget_idle(&self) {
        self.callers.forget_idle();
        self.token_clients.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::Limiter;

    #[test]
    fn a_key_is_refused_past_its_burst_and_others_are_not() {
        let limiter = Limiter::new("default", 60, Some(3));
        let remaining: Vec<u32> = (0..3)
            .filter_map(|_| limiter.check("user:a"))
            .map(|s| s.remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check("user:a").unwrap();
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after, Some(1));
        assert_eq!(refused.policy_header(), "\"default\";q=60;w=60");
        assert_eq!(refused.header(), "\"default\";r=0;t=1");
        let other = limiter.check("user:b").unwrap();
        assert_eq!((other.remaining, other.retry_after), (2, None));
        assert_eq!(other.reset_seconds, 1);
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = Limiter::new("default", 0, None);
        assert!((0..10).all(|_| limiter.check("user:a").is_none()));
    }
}
