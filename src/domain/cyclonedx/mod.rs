//! CycloneDX ML-BOMs (docs/cyclonedx.md): reading a BOM's models, datasets and platforms as
//! assets to import, and writing the inventory back as a CycloneDX 1.6 BOM.

use serde_json::Value;

use crate::domain::asset::{AssetKind, Classification};

mod export;
mod fields;
mod parse;

pub use export::{ExportAsset, bom_of};
pub use parse::parse;

/// The spec versions an import accepts.
pub const SPEC_VERSIONS: [&str; 3] = ["1.5", "1.6", "1.7"];

/// The property naming the Annexa asset kind of an exported component.
pub const KIND_PROPERTY: &str = "annexa:kind";

/// One thing wrong with a BOM: where (an RFC 6901 JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl Problem {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Why a document could not be read as a BOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BomError {
    /// It is not JSON at all.
    NotJson(String),
    /// It is JSON, but not a BOM Annexa can import: every problem found.
    Invalid(Vec<Problem>),
}

/// A BOM read for import.
#[derive(Debug, Clone)]
pub struct Bom {
    /// Its `serialNumber` (`urn:uuid:…`): with each component's key, the import's key.
    pub serial_number: String,
    pub spec_version: String,
    /// The components imported as assets, in document order.
    pub components: Vec<Component>,
    /// How many components are not imported (their type is not an AI asset's).
    pub skipped: usize,
}

/// A component to import as an asset. Fields the BOM does not state are `None` and leave an
/// existing asset's value alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its `bom-ref`, else its `purl`: unique in the BOM.
    pub key: String,
    /// Where it is in the document.
    pub pointer: String,
    pub name: String,
    pub kind: AssetKind,
    pub description: Option<String>,
    pub version: Option<String>,
    pub classification: Option<Classification>,
    pub personal_data: Option<bool>,
    /// Its `hashes`, as a normalized JSON array.
    pub hashes: Value,
    /// Its `externalReferences`, as a normalized JSON array.
    pub external_references: Value,
    /// Its `purl`, else its `distribution` (model registry) URL: the asset's `external_ref`
    /// when no other asset has it.
    pub external_ref: Option<String>,
    /// Its supplier's (else manufacturer's) name.
    pub supplier: Option<String>,
    /// The keys of the components it is derived from, sorted.
    pub sources: Vec<String>,
}

#[cfg(test)]
mod tests;
