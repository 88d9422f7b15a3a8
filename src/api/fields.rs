//! Serde helpers for request bodies: fields that distinguish "absent" from `null`.

use serde::{Deserialize, Deserializer};

/// Reads a field that may be absent (no change), null (clear) or a value (set); use with
/// `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
