//! Pure rules with no web or database code: roles, identity values, control rules and the
//! readiness formula.

pub mod control;
pub mod evidence;
pub mod finding;
pub mod identity;
pub mod readiness;
pub mod role;
