//! Shared application state handed to every handler.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{auth::jwt::JwtKeys, config::Settings};

/// What every handler can reach: the database pool, the token keys and the settings.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
}
