//! Pure rules with no web or database code: roles and their permissions, identity value rules.

pub mod identity;
pub mod role;
