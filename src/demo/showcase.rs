//! The organization `annexa demo` serves: created once per database, then found by its name.

use std::{fmt::Write as _, net::SocketAddr};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{People, SeedSpec, seed_organization_for};
use crate::error::Result;

/// The demo organization's name: how a later `annexa demo` on the same database finds it
/// (organizations have no slug).
pub const DEMO_ORG_NAME: &str = "Aurora AI Labs (demo)";

/// The password of the demo members: printed on every start, as this is a demo.
pub const DEMO_PASSWORD: &str = "aurora demo password";

/// The demo members, as a small AI company's ISMS team would be.
pub const DEMO_USERS: People<'static> = People {
    admin: "ciso@aurora-ai.example",
    editor: "ml-platform@aurora-ai.example",
    auditor: "auditor@aurora-ai.example",
};

/// Fixed, so that every fresh demo database holds the same data.
const DEMO_SEED: u64 = 2027;

/// The demo organization in this database.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Its id.
    pub org_id: String,
    /// Whether it was created just now (false: it was already there and was left as it was).
    pub created: bool,
}

/// Finds the demo organization, or seeds it per `spec` when the database has none.
pub async fn ensure_demo(db_conn: &DatabaseConnection, spec: &SeedSpec) -> Result<Demo> {
    if let Some(org_id) = find_demo(db_conn).await? {
        return Ok(Demo {
            org_id,
            created: false,
        });
    }
    let seeded = seed_organization_for(
        db_conn,
        DEMO_ORG_NAME,
        spec,
        &DEMO_USERS,
        DEMO_PASSWORD,
        DEMO_SEED,
    )
    .await?;
    Ok(Demo {
        org_id: seeded.org_id,
        created: true,
    })
}

/// The id of the oldest organization named like the demo one, if any.
async fn find_demo(db_conn: &DatabaseConnection) -> Result<Option<String>> {
    let org = entity::organization::Entity::find()
        .filter(entity::organization::Column::Name.eq(DEMO_ORG_NAME))
        .order_by_asc(entity::organization::Column::CreatedAt)
        .one(db_conn)
        .await?;
    Ok(org.map(|o| o.id))
}

/// The base URL a person on this machine can reach the server at: the bound address, or the
/// loopback one when bound to every interface.
pub fn base_url(bind: SocketAddr, port: u16) -> String {
    let ip = if bind.ip().is_unspecified() {
        match bind {
            SocketAddr::V4(_) => "127.0.0.1".to_owned(),
            SocketAddr::V6(_) => "[::1]".to_owned(),
        }
    } else if bind.is_ipv6() {
        format!("[{}]", bind.ip())
    } else {
        bind.ip().to_string()
    };
    format!("http://{ip}:{port}")
}

/// What to print once the demo server listens at `base`: how to log in and a few calls to try.
pub fn instructions(demo: &Demo, base: &str) -> String {
    let org = &demo.org_id;
    let state = if demo.created {
        "created"
    } else {
        "already in this database, left as it was"
    };
    let mut text = format!(
        "\nAnnexa demo: the organization \"{DEMO_ORG_NAME}\" ({state}), id {org}.\n\n\
         Log in as one of its members, all with the password `{DEMO_PASSWORD}`:\n\n"
    );
    for (email, role) in [
        (DEMO_USERS.admin, "admin, and platform admin"),
        (DEMO_USERS.editor, "editor"),
        (DEMO_USERS.auditor, "auditor"),
    ] {
        let _ = writeln!(text, "    {email:<32} {role}");
    }
    let _ = write!(
        text,
        "\nTry (with jq):\n\n\
         TOKEN=$(curl -s {base}/api/v1/auth/token -d grant_type=password \\\n  \
           -d username={auditor} -d 'password={DEMO_PASSWORD}' | jq -r .access_token)\n\
         curl -s '{base}/api/v1/organizations/{org}/controls?limit=5' -H \"Authorization: Bearer $TOKEN\"\n\
         curl -s {base}/api/v1/organizations/{org}/readiness -H \"Authorization: Bearer $TOKEN\"\n\
         curl -s {base}/api/v1/organizations/{org}/readiness/iso27001-2022 -H \"Authorization: Bearer $TOKEN\"\n\n\
         Swagger UI: {base}/docs/ (Ctrl-C stops the server)\n",
        auditor = DEMO_USERS.auditor,
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_is_reachable_from_this_machine() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base_url(at("127.0.0.1:8080"), 8080),
            "http://127.0.0.1:8080"
        );
        assert_eq!(base_url(at("0.0.0.0:0"), 4242), "http://127.0.0.1:4242");
        assert_eq!(base_url(at("[::]:80"), 80), "http://[::1]:80");
        assert_eq!(base_url(at("[::1]:80"), 80), "http://[::1]:80");
    }

    #[test]
    fn the_instructions_name_the_port_and_the_organization() {
        let demo = Demo {
            org_id: "org-42".to_owned(),
            created: true,
        };
        let text = instructions(&demo, "http://127.0.0.1:9000");
        assert!(text.contains("http://127.0.0.1:9000/api/v1/auth/token"));
        assert!(text.contains("/organizations/org-42/readiness/iso27001-2022"));
        assert!(text.contains(DEMO_USERS.auditor) && text.contains(DEMO_PASSWORD));
    }
}
