//! The one way the domain declares a value set that is stored and sent as text: an enum with
//! its wire names, every value in order (`ALL`), `as_str` and `parse`.

/// Declares a wire enum: each variant with its stored and wire name (`Variant => "name"`).
/// The names are taken as token trees, not `literal` fragments: the `ToSchema` derive does not
/// see through the invisible group a `literal` fragment is passed in, and would document the
/// variants' Rust names instead of their wire names.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The stored / wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses a stored / wire name.
            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == value)
            }
        }
    };
}

pub(crate) use wire_enum;
