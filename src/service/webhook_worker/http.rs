//! The delivery's HTTP side: a resolver that refuses forbidden addresses, and error texts.

use std::net::SocketAddr;

use crate::{
    domain::webhook::{self},
    service::webhooks::{self},
};

/// Resolves endpoint host names and refuses loopback, private and link-local answers, so that
/// a name that re-points after registration cannot reach internal services.
pub(super) struct GuardedResolver {
    pub(super) allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses = webhooks::resolve(&host, 0).await?;
            if !allow_private
                && let Some(ip) = addresses
                    .iter()
                    .find(|ip| webhook::is_forbidden_address(**ip))
            {
                return Err(format!(
                    "`{host}` resolves to {ip}, a loopback, private or link-local address"
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

/// An error and its causes on one line.
pub(super) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

pub(super) fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
