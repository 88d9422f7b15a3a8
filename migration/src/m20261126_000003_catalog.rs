//! The shipped catalog: frameworks, their requirements, requirement attributes and cross-framework mappings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Frameworks::Table)
                    .if_not_exists()
                    .col(string_len(Frameworks::Key, 64).primary_key())
                    .col(string_len(Frameworks::Name, 200))
                    .col(text(Frameworks::Title))
                    .col(string_len(Frameworks::Publisher, 200))
                    .col(string_len(Frameworks::Version, 40))
                    .col(text(Frameworks::Description))
                    .col(integer(Frameworks::DataVersion))
                    .col(text(Frameworks::Groups))
                    .col(integer(Frameworks::Position))
                    .col(timestamp_with_time_zone(Frameworks::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Requirements::Table)
                    .if_not_exists()
                    .col(string_len(Requirements::Id, 36).primary_key())
                    .col(string_len(Requirements::FrameworkKey, 64))
                    .col(string_len(Requirements::Ref, 40))
                    .col(text(Requirements::Title))
                    .col(string_len(Requirements::GroupKey, 40))
                    .col(string_len_null(Requirements::Section, 200))
                    .col(string_len(Requirements::Kind, 20))
                    .col(text(Requirements::Description))
                    .col(text_null(Requirements::Attributes))
                    .col(integer(Requirements::Position))
                    .col(boolean(Requirements::Withdrawn).default(false))
                    .col(timestamp_with_time_zone(Requirements::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_requirements_framework")
                            .from(Requirements::Table, Requirements::FrameworkKey)
                            .to(Frameworks::Table, Frameworks::Key)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_requirements_framework_ref")
                    .table(Requirements::Table)
                    .col(Requirements::FrameworkKey)
                    .col(Requirements::Ref)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_requirements_framework_position")
                    .table(Requirements::Table)
                    .col(Requirements::FrameworkKey)
                    .col(Requirements::Position)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RequirementAttributes::Table)
                    .if_not_exists()
                    .col(string_len(RequirementAttributes::RequirementId, 36))
                    .col(string_len(RequirementAttributes::Attribute, 40))
                    .col(string_len(RequirementAttributes::Value, 60))
                    .primary_key(
                        Index::create()
                            .col(RequirementAttributes::RequirementId)
                            .col(RequirementAttributes::Attribute)
                            .col(RequirementAttributes::Value),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_requirement_attributes_requirement")
                            .from(
                                RequirementAttributes::Table,
                                RequirementAttributes::RequirementId,
                            )
                            .to(Requirements::Table, Requirements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_requirement_attributes_value")
                    .table(RequirementAttributes::Table)
                    .col(RequirementAttributes::Attribute)
                    .col(RequirementAttributes::Value)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Mappings::Table)
                    .if_not_exists()
                    .col(string_len(Mappings::Id, 36).primary_key())
                    .col(string_len(Mappings::FromRequirementId, 36))
                    .col(string_len(Mappings::ToRequirementId, 36))
                    .col(string_len(Mappings::Relationship, 20))
                    .col(text(Mappings::Rationale))
                    .col(integer(Mappings::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mappings_from")
                            .from(Mappings::Table, Mappings::FromRequirementId)
                            .to(Requirements::Table, Requirements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mappings_to")
                            .from(Mappings::Table, Mappings::ToRequirementId)
                            .to(Requirements::Table, Requirements::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_mappings_from_to")
                    .table(Mappings::Table)
                    .col(Mappings::FromRequirementId)
                    .col(Mappings::ToRequirementId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mappings_to")
                    .table(Mappings::Table)
                    .col(Mappings::ToRequirementId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "mappings",
            "requirement_attributes",
            "requirements",
            "frameworks",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Frameworks {
    Table,
    Key,
    Name,
    Title,
    Publisher,
    Version,
    Description,
    DataVersion,
    Groups,
    Position,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Requirements {
    Table,
    Id,
    FrameworkKey,
    Ref,
    Title,
    GroupKey,
    Section,
    Kind,
    Description,
    Attributes,
    Position,
    Withdrawn,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RequirementAttributes {
    Table,
    RequirementId,
    Attribute,
    Value,
}

#[derive(DeriveIden)]
enum Mappings {
    Table,
    Id,
    FromRequirementId,
    ToRequirementId,
    Relationship,
    Rationale,
    Position,
}
