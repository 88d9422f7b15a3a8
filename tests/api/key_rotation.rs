//! JWT key rotation: tokens name their key (`kid`); the current secret signs, previous secrets
//! still verify until they are removed, and an unknown `kid` is refused.

use annexa::auth::jwt::{JwtKeys, key_id};
use reqwest::StatusCode;

use crate::helpers::TestApp;

const OLD: &str = "the previous signing secret of 32 bytes or more";
const NEW: &str = "the current signing secret also 32 bytes long";

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/me", token).await.status()
}

fn sub(app: &TestApp) -> String {
    format!("user:{}", app.admin_id)
}

#[tokio::test]
async fn tokens_carry_the_kid_of_the_signing_key() {
    let app = TestApp::spawn_with(|s| s.jwt_secret = Some(NEW.to_owned())).await;
    let header = jsonwebtoken::decode_header(&app.admin_token).expect("header");
    assert_eq!(header.kid.as_deref(), Some(key_id(NEW).as_str()));
    assert_eq!(key_id(NEW).len(), 16);
    assert_eq!(me_status(&app, &app.admin_token).await, StatusCode::OK);
}

#[tokio::test]
async fn a_previous_secret_verifies_until_it_is_removed() {
    let app = TestApp::spawn_with(|s| {
        s.jwt_secret = Some(NEW.to_owned());
        s.jwt_previous_secrets = vec![OLD.to_owned()];
    })
    .await;
    let (old_token, _) = JwtKeys::new(OLD, 900).issue(sub(&app)).expect("token");
    assert_eq!(me_status(&app, &old_token).await, StatusCode::OK);
    // New tokens are signed with the current secret.
    let header = jsonwebtoken::decode_header(&app.admin_token).expect("header");
    assert_eq!(header.kid, Some(key_id(NEW)));

    // The same database, restarted without the previous secret: its tokens are refused.
    let rotated = JwtKeys::new(NEW, 900);
    assert!(rotated.verify(&old_token).is_err());
    let kept = JwtKeys::rotated(NEW, &[OLD.to_owned()], 900);
    assert_eq!(kept.verify(&old_token).expect("verifies").sub, sub(&app));
}

#[tokio::test]
async fn a_removed_secret_or_an_unknown_kid_is_refused() {
    let app = TestApp::spawn_with(|s| s.jwt_secret = Some(NEW.to_owned())).await;
    let (old_token, _) = JwtKeys::new(OLD, 900).issue(sub(&app)).expect("token");
    assert_eq!(me_status(&app, &old_token).await, StatusCode::UNAUTHORIZED);

    // A token signed with the current secret but naming another key.
    let claims = app.state.jwt.verify(&app.admin_token).expect("claims");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("0123456789abcdef".to_owned());
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(NEW.as_bytes()),
    )
    .expect("token");
    assert_eq!(me_status(&app, &forged).await, StatusCode::UNAUTHORIZED);

    // A token naming the current key's kid but signed with another secret.
    header.kid = Some(key_id(NEW));
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(OLD.as_bytes()),
    )
    .expect("token");
    assert_eq!(me_status(&app, &forged).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_generated_secret_signs_with_a_kid_and_keeps_previous_ones() {
    // No ANNEXA_JWT_SECRET: the key generated once and kept in the database signs.
    let app = TestApp::spawn_with(|s| s.jwt_previous_secrets = vec![OLD.to_owned()]).await;
    let header = jsonwebtoken::decode_header(&app.admin_token).expect("header");
    let kid = header.kid.expect("kid");
    assert_ne!(kid, key_id(OLD));
    assert_eq!(me_status(&app, &app.admin_token).await, StatusCode::OK);
    let (old_token, _) = JwtKeys::new(OLD, 900).issue(sub(&app)).expect("token");
    assert_eq!(me_status(&app, &old_token).await, StatusCode::OK);
}

#[test]
fn previous_secrets_are_checked_and_an_empty_list_is_none() {
    let run = |value: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_annexa"))
            .arg("openapi")
            .env("ANNEXA_JWT_PREVIOUS_SECRETS", value)
            .output()
            .expect("run annexa")
    };
    assert!(run("").status.success(), "emptied after a rotation");
    assert!(run(&format!("{},", "x".repeat(32))).status.success());
    let out = run("too-short");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("jwt-previous-secrets"));
}
