//! Annexa: a headless JSON API for ISO/IEC 27001 audit readiness (library root).

pub mod api;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod error;
pub mod rate_limit;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
