//! Pure rules with no web or database code: roles, identity values, control rules, the
//! readiness formula and webhook signing.

pub mod asset;
pub mod audit_chain;
pub mod control;
pub mod cyclonedx;
pub mod evidence;
pub mod finding;
pub mod identity;
pub mod principal;
pub mod readiness;
pub mod risk;
pub mod role;
pub mod supplier;
pub mod webhook;
mod wire;
