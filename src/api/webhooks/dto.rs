//! The DTOs of webhook endpoints and of the requests sent to them (docs/webhooks.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::webhook::EventType,
    error::{AppError, Result},
    page_schema,
    service::webhooks::{self, EndpointPatch, NewEndpoint},
};

/// The description of every `{webhook_id}` path parameter.
pub const WEBHOOK_ID: &str = "The webhook endpoint's id";

/// A webhook endpoint: where the organization's events are sent, signed per Standard Webhooks 1.0.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    /// The endpoint's id.
    pub id: String,
    /// Where events are POSTed.
    #[schema(format = "uri", example = "https://hooks.example.com/annexa")]
    pub url: String,
    /// What it is for.
    #[schema(example = "Jira automation")]
    pub description: Option<String>,
    /// The event types it receives.
    pub events: Vec<EventType>,
    /// Whether events are sent to it. An endpoint answering 410 Gone is disabled.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Until when the secret replaced by the last rotation still signs (a second signature).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Incremented on every change.
    pub version: i32,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<entity::webhook_endpoint::Model> for Webhook {
    type Error = AppError;

    fn try_from(e: entity::webhook_endpoint::Model) -> Result<Self> {
        Ok(Self {
            events: webhooks::events_of(&e)?,
            // Expired overlaps are history: say so only while the old secret still signs.
            previous_secret_expires_at: e
                .previous_secret_expires_at
                .filter(|until| *until > Utc::now()),
            id: e.id,
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        })
    }
}

page_schema!(WebhookPage, Webhook, "A page of webhook endpoints.");

/// A webhook endpoint with its signing secret, shown only on creation and rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_` + base64). Store it now: it is never shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// An endpoint to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where to POST events: `https`, and not a loopback, private or link-local address.
    #[schema(format = "uri", example = "https://hooks.example.com/annexa")]
    pub url: String,
    /// The event types to receive (at least one).
    pub events: Vec<EventType>,
    /// What it is for.
    pub description: Option<String>,
}

/// Changes to an endpoint. Absent fields are left as they are; `null` clears the description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    /// A new URL (checked like on registration).
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// The event types to receive (at least one).
    pub events: Option<Vec<EventType>>,
    /// What it is for.
    #[serde(default, deserialize_with = "crate::api::fields::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// `true` re-enables a disabled endpoint (its pending deliveries go out); `false` pauses it.
    pub enabled: Option<bool>,
}

/// A secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecretRotation {
    /// How long the old secret keeps signing beside the new one, in seconds (default 86400,
    /// at most 604800; 0 retires it at once).
    #[schema(minimum = 0, maximum = 604800, example = 86400)]
    pub overlap_seconds: Option<u64>,
}

impl WebhookSecretRotation {
    /// How long the old secret keeps signing.
    pub fn overlap(&self) -> std::time::Duration {
        self.overlap_seconds
            .map_or(webhooks::DEFAULT_OVERLAP, std::time::Duration::from_secs)
    }
}

impl From<WebhookCreate> for NewEndpoint {
    fn from(c: WebhookCreate) -> Self {
        Self {
            url: c.url,
            events: c.events,
            description: c.description,
        }
    }
}

impl From<WebhookUpdate> for EndpointPatch {
    fn from(u: WebhookUpdate) -> Self {
        Self {
            url: u.url,
            events: u.events,
            description: u.description,
            enabled: u.enabled,
        }
    }
}

/// The body of every webhook request. Headers: `webhook-id` (the event id), `webhook-timestamp`
/// (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
/// space-separated when a rotated secret still signs).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPayload {
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// The resource as the API shows it (a finding, control or evidence), or for
    /// `readiness.score_changed` the framework's `score`, `level`, `previous_score`,
    /// `previous_level`, `formula_version` and `computed_at`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}
