//! Evidence: documents, screenshots, logs… with validity and review.

use sea_orm::entity::prelude::*;

use crate::values::{EvidenceKind, ReviewStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub title: String,
    pub description: Option<String>,
    pub kind: EvidenceKind,
    pub url: Option<String>,
    pub collected_at: Option<DateTimeUtc>,
    pub valid_until: Option<DateTimeUtc>,
    pub review_status: ReviewStatus,
    pub review_comment: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub submitted_by: String,
    pub content_sha256: Option<String>,
    pub content_size: Option<i64>,
    pub content_media_type: Option<String>,
    pub content_filename: Option<String>,
    pub archived_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
