//! Optimistic concurrency: `If-Match` preconditions against a resource's `version`, and
//! storing a changed row as its next version.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait,
    IntoActiveModel,
};

use crate::error::{AppError, Result};

/// A row whose every change moves its `version` (its entity tag) and its `updated_at`.
pub trait Versioned: ActiveModelTrait + ActiveModelBehavior + Send {
    /// Sets the version after `current` and the time of the change.
    fn bump(&mut self, current: i32, at: DateTime<Utc>);
}

macro_rules! versioned {
    ($($table:ident),+) => {
        $(impl Versioned for entity::$table::ActiveModel {
            fn bump(&mut self, current: i32, at: DateTime<Utc>) {
                self.version = Set(current + 1);
                self.updated_at = Set(at);
            }
        })+
    };
}

versioned!(
    asset,
    control,
    evidence,
    finding,
    membership,
    organization,
    risk,
    service_account,
    supplier,
    supplier_review,
    user,
    webhook_endpoint
);

/// Stores the changed row `active`, read at version `current`, as its next version at `at`.
pub async fn save_next<A, C>(
    conn: &C,
    mut active: A,
    current: i32,
    at: DateTime<Utc>,
) -> std::result::Result<<A::Entity as EntityTrait>::Model, sea_orm::DbErr>
where
    A: Versioned,
    C: ConnectionTrait,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    active.bump(current, at);
    active.update(conn).await
}

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// The versions named by the entity tags (`"3"`); tags that are not versions never match.
    Versions(Vec<i32>),
}

impl IfMatch {
    /// Parses the header value; weak tags (`W/"…"`) never match (strong comparison).
    pub fn parse(value: &str) -> Self {
        if value.trim() == "*" {
            return Self::Any;
        }
        Self::Versions(
            value
                .split(',')
                .map(str::trim)
                .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok())
                .collect(),
        )
    }
}

/// The entity tag of a version: `"<version>"`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// 412 when a precondition is given and does not match `current`.
pub fn check(if_match: Option<&IfMatch>, current: i32) -> Result<()> {
    match if_match {
        None | Some(IfMatch::Any) => Ok(()),
        Some(IfMatch::Versions(versions)) if versions.contains(&current) => Ok(()),
        Some(IfMatch::Versions(_)) => Err(AppError::PreconditionFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        assert_eq!(IfMatch::parse("*"), IfMatch::Any);
        assert_eq!(
            IfMatch::parse("\"3\", \"4\""),
            IfMatch::Versions(vec![3, 4])
        );
        assert_eq!(IfMatch::parse("W/\"3\""), IfMatch::Versions(vec![]));
        assert!(check(None, 1).is_ok());
        assert!(check(Some(&IfMatch::Any), 7).is_ok());
        assert!(check(Some(&IfMatch::parse("\"7\"")), 7).is_ok());
        assert!(matches!(
            check(Some(&IfMatch::parse("\"6\"")), 7),
            Err(AppError::PreconditionFailed)
        ));
        assert_eq!(etag(5), "\"5\"");
    }
}
