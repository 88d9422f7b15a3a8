//! Identity and tenancy: the token endpoint, JWT validation, revocation, throttling, users,
//! organizations, members (last-admin rule) and service accounts.

use annexa::domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Actor, TestApp, USER_PASSWORD, assert_problem, body, item_count,
    mint,
};

async fn token_form(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .form(form)
        .send()
        .await
        .expect("request");
    let status = res.status();
    if status == StatusCode::OK {
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The password grant for the bootstrap admin: its tokens.
async fn admin_login(app: &TestApp) -> Value {
    let (status, tokens) = token_form(
        app,
        &[
            ("grant_type", "password"),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/me", token).await.status()
}

#[tokio::test]
async fn password_grant_as_form_and_json() {
    let app = TestApp::spawn().await;
    let (status, tokens) = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "Admin@Annexa.test"),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("axr_"))
    );
    let access = tokens["access_token"].as_str().expect("token");
    let me = body(app.get("/api/v1/me", access).await).await;
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["kind"], "user");
    assert_eq!(me["is_platform_admin"], true);

    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .json(
            &json!({"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_hash_with_older_costs_is_replaced_at_login() {
    use argon2::{
        Argon2, PasswordHasher,
        password_hash::{SaltString, rand_core::OsRng},
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

    use crate::helpers::FindByEmail;

    let app = TestApp::spawn().await;
    let actor = app.user("older-hash@annexa.test", false).await;
    // As stored before the costs changed: argon2's defaults, 19 MiB and 2 passes.
    let salt = SaltString::generate(&mut OsRng);
    let older = Argon2::default()
        .hash_password(USER_PASSWORD.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    entity::user::Entity::update_many()
        .col_expr(
            entity::user::Column::PasswordHash,
            Expr::value(older.clone()),
        )
        .filter(entity::user::Column::Id.eq(actor.id.as_str()))
        .exec(&app.state.db)
        .await
        .expect("store the older hash");
    let stored = || async {
        entity::user::Entity::find_by_email(&app.state.db, &actor.email)
            .await
            .password_hash
    };

    // A wrong password changes nothing.
    let (status, _) = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", actor.email.as_str()),
            ("password", "a wrong password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stored().await, older);

    // The right one logs in, and the stored hash now has the current costs.
    let login = [
        ("grant_type", "password"),
        ("username", actor.email.as_str()),
        ("password", USER_PASSWORD),
    ];
    let (status, tokens) = token_form(&app, &login).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let rehashed = stored().await;
    assert!(
        rehashed.starts_with("$argon2id$v=19$m=9216,t=4,p=1$"),
        "{rehashed}"
    );
    let (status, tokens) = token_form(&app, &login).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(stored().await, rehashed, "a current hash is kept");
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = TestApp::spawn().await;
    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Form, u16, &str); 5] = [
        (
            &[
                ("grant_type", "password"),
                ("username", ADMIN_EMAIL),
                ("password", "wrong password!!"),
            ],
            400,
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "password"),
                ("username", "nobody@example.com"),
                ("password", "whatever password"),
            ],
            400,
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "password"),
                ("password", "whatever password"),
            ],
            400,
            "invalid_request",
        ),
        (
            &[("grant_type", "authorization_code"), ("code", "x")],
            400,
            "invalid_request",
        ),
        (&[("grant_type", "implicit")], 400, "unsupported_grant_type"),
    ];
    for (form, status, error) in cases {
        let (actual, body) = token_form(&app, form).await;
        assert_eq!(
            (actual.as_u16(), body["error"].as_str()),
            (status, Some(error)),
            "{form:?}: {body}"
        );
        assert!(body["error_description"].is_string());
    }
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .header("content-type", "text/plain")
        .body("grant_type=password")
        .send()
        .await
        .expect("request");
    assert_problem(res, 415).await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_username() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let (status, _) = token_form(
            &app,
            &[
                ("grant_type", "password"),
                ("username", ADMIN_EMAIL),
                ("password", "not the password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    // Now even the right password is refused until the lock expires.
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .expect("request");
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&retry_after));
    assert_problem(res, 429).await;
    // Another username is not affected.
    let other = app.user("other@example.com", false).await;
    let (status, _) = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", &other.email),
            ("password", USER_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The counter lives in the database (shared by replicas).
    use sea_orm::EntityTrait;
    let row = entity::login_throttle::Entity::find_by_id(ADMIN_EMAIL.to_owned())
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.failures, 5);
    assert!(row.locked_until.is_some());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let first = admin_login(&app).await;
    let r1 = first["refresh_token"].as_str().expect("refresh").to_owned();
    let (status, second) = token_form(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let r2 = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(r1, r2);
    assert_eq!(
        me_status(&app, second["access_token"].as_str().expect("access")).await,
        StatusCode::OK
    );

    // Reusing the spent token is refused and revokes the family: r2 stops working too.
    let (status, err) = token_form(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = token_form(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &r2)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = token_form(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "axr_unknown"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn revocation_of_access_and_refresh_tokens() {
    let app = TestApp::spawn().await;
    let tokens = admin_login(&app).await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(me_status(&app, &access).await, StatusCode::OK);
    for token in [access.as_str(), refresh.as_str(), "garbage"] {
        let res = app
            .request(Method::POST, "/api/v1/auth/revoke", None)
            .form(&[("token", token)])
            .send()
            .await
            .expect("request");
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "RFC 7009: 200 even for unknown tokens"
        );
    }
    let problem = assert_problem(app.get("/api/v1/me", &access).await, 401).await;
    assert!(problem["detail"].as_str().unwrap_or("").contains("revoked"));
    let (status, _) = token_form(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_valid_hs256_tokens_are_accepted() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64, aud: &str| json!({"iss": "urn:annexa", "aud": aud, "sub": format!("user:{}", app.admin_id), "exp": exp, "iat": now, "jti": "t-1"});
    let secret = entity_secret(&app).await;
    let sign = |alg: Algorithm, key: &[u8], claims: &Value| {
        encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).expect("encode")
    };
    let good = sign(
        Algorithm::HS256,
        secret.as_bytes(),
        &claims(now + 600, "urn:annexa:api"),
    );
    assert_eq!(
        me_status(&app, &good).await,
        StatusCode::OK,
        "a well-formed token works"
    );
    let unsigned = {
        let header = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64_url(&claims(now + 600, "urn:annexa:api").to_string());
        format!("{header}.{payload}.")
    };
    let mut no_jti = claims(now + 600, "urn:annexa:api");
    no_jti.as_object_mut().expect("object").remove("jti");
    for bad in [
        sign(
            Algorithm::HS256,
            secret.as_bytes(),
            &claims(now - 3600, "urn:annexa:api"),
        ),
        sign(
            Algorithm::HS256,
            secret.as_bytes(),
            &claims(now + 600, "someone-else"),
        ),
        sign(
            Algorithm::HS256,
            b"another secret of at least thirty-two bytes",
            &claims(now + 600, "urn:annexa:api"),
        ),
        sign(
            Algorithm::HS384,
            secret.as_bytes(),
            &claims(now + 600, "urn:annexa:api"),
        ),
        sign(Algorithm::HS256, secret.as_bytes(), &no_jti),
        unsigned,
        "not.a.jwt".to_owned(),
    ] {
        let res = app.get("/api/v1/me", &bad).await;
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .expect("header")
                .starts_with("Bearer")
        );
        assert_problem(res, 401).await;
    }
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .expect("request");
    assert_problem(res, 401).await;
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .expect("request");
    assert_problem(res, 401).await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

async fn entity_secret(app: &TestApp) -> String {
    use sea_orm::EntityTrait;
    entity::setting::Entity::find_by_id("jwt_secret".to_owned())
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("a generated secret is kept in the database")
        .value
}

#[tokio::test]
async fn a_configured_jwt_secret_is_used_as_is() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let secret = "a configured secret that is long enough!";
    let app = TestApp::spawn_with(|s| s.jwt_secret = Some(secret.to_owned())).await;
    let now = chrono::Utc::now().timestamp();
    let token = encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": "urn:annexa", "aud": "urn:annexa:api", "sub": format!("user:{}", app.admin_id), "exp": now + 60, "iat": now, "jti": "x"}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode");
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
}

#[tokio::test]
async fn users_are_created_by_platform_admins_only() {
    let app = TestApp::spawn().await;
    let create = |token: String, body: Value| {
        let app = &app;
        async move { app.post("/api/v1/users", &token, &body).await }
    };
    let res = create(
        app.admin_token.clone(),
        json!({"email": " New.User@Example.com ", "name": "New User", "password": "twelve chars"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        res.headers()["location"]
            .to_str()
            .expect("location")
            .starts_with("/api/v1/users/")
    );
    let user = body(res).await;
    assert_eq!(
        user["email"], "new.user@example.com",
        "emails are normalized"
    );
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    let problem = assert_problem(
        create(
            app.admin_token.clone(),
            json!({"email": "new.user@example.com", "password": "twelve chars"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:email-taken");
    let problem = assert_problem(
        create(
            app.admin_token.clone(),
            json!({"email": "short@example.com", "password": "elevenchars"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "password");
    assert_problem(
        create(
            app.admin_token.clone(),
            json!({"email": "not-an-email", "password": "twelve chars"}),
        )
        .await,
        422,
    )
    .await;

    // The new user logs in with the password.
    let (status, _) = token_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "new.user@example.com"),
            ("password", "twelve chars"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let plain = app.user("plain@example.com", false).await;
    assert_problem(
        create(
            plain.token.clone(),
            json!({"email": "x@example.com", "password": "twelve chars"}),
        )
        .await,
        403,
    )
    .await;
    assert_problem(app.get("/api/v1/users", &plain.token).await, 403).await;
    let list = body(
        app.get("/api/v1/users?email=NEW.USER@example.com", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn organizations_are_visible_to_their_members_only() {
    let app = TestApp::spawn().await;
    let a = app.organization("Org A").await;
    let b = app.organization("Org B").await;
    let alice = app.member(&a, Role::Viewer).await;
    let list = body(app.get("/api/v1/organizations", &alice.token).await).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, [a.as_str()]);
    assert_eq!(
        app.get(&format!("/api/v1/organizations/{a}"), &alice.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_problem(
        app.get(&format!("/api/v1/organizations/{b}"), &alice.token)
            .await,
        404,
    )
    .await;
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{}", uuid::Uuid::now_v7()),
            &alice.token,
        )
        .await,
        404,
    )
    .await;
    let me = body(app.get("/api/v1/me", &alice.token).await).await;
    assert_eq!(
        me["memberships"],
        json!([{"organization_id": a, "organization_name": "Org A", "role": "viewer"}])
    );

    // Only platform admins create and delete organizations.
    let admin = app.member(&a, Role::Admin).await;
    assert_problem(
        app.post("/api/v1/organizations", &admin.token, &json!({"name": "X"}))
            .await,
        403,
    )
    .await;
    assert_problem(
        app.delete(&format!("/api/v1/organizations/{a}"), &admin.token)
            .await,
        403,
    )
    .await;
    let res = app
        .delete(&format!("/api/v1/organizations/{a}"), &app.admin_token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&format!("/api/v1/organizations/{a}"), &alice.token)
            .await,
        404,
    )
    .await;
    let me = body(app.get("/api/v1/me", &alice.token).await).await;
    assert_eq!(
        me["memberships"],
        json!([]),
        "memberships go with the organization"
    );
}

/// An organization with an admin, and Bob: a user the admin adds as an editor, by email.
struct Members {
    org: String,
    /// The members collection.
    members: String,
    first_admin: Actor,
    bob: Actor,
}

async fn members(app: &TestApp) -> Members {
    let org = app.organization("Acme").await;
    let members = format!("/api/v1/organizations/{org}/members");
    let first_admin = app.member(&org, Role::Admin).await;
    let bob = app.user("bob@example.com", false).await;
    let res = app
        .post(
            &members,
            &first_admin.token,
            &json!({"email": "BOB@example.com", "role": "editor"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()["location"].to_str().expect("location"),
        format!("{members}/{}", bob.id)
    );
    let added = body(res).await;
    assert_eq!(
        (added["role"].as_str(), added["email"].as_str()),
        (Some("editor"), Some("bob@example.com")),
        "emails are matched without case"
    );
    Members {
        org,
        members,
        first_admin,
        bob,
    }
}

#[tokio::test]
async fn members_are_added_by_email_and_listed_to_members() {
    let app = TestApp::spawn().await;
    let m = members(&app).await;
    let list = app.get_json(&m.members, &m.bob.token).await;
    assert_eq!(item_count(&list), 2, "the admin and Bob: {list}");
}

#[tokio::test]
async fn invalid_member_additions_are_refused() {
    let app = TestApp::spawn().await;
    let m = members(&app).await;
    // (who, body, status, problem type)
    let cases = [
        (
            &m.first_admin,
            json!({"user_id": m.bob.id, "role": "viewer"}),
            409,
            Some("urn:annexa:problem:member-exists"),
        ),
        (
            &m.first_admin,
            json!({"email": "ghost@example.com", "role": "viewer"}),
            422,
            None,
        ),
        (
            &m.first_admin,
            json!({"email": "bob@example.com", "role": "owner"}),
            400,
            None,
        ),
        (&m.first_admin, json!({"role": "viewer"}), 422, None),
        (
            &m.bob,
            json!({"email": "x@example.com", "role": "viewer"}),
            403,
            None,
        ),
    ];
    for (who, payload, status, problem_type) in cases {
        let problem =
            assert_problem(app.post(&m.members, &who.token, &payload).await, status).await;
        if let Some(problem_type) = problem_type {
            assert_eq!(problem["type"], problem_type, "{payload}");
        }
    }
    let list = app.get_json(&m.members, &m.bob.token).await;
    assert_eq!(item_count(&list), 2, "nobody else was added");
}

#[tokio::test]
async fn the_last_admin_can_be_neither_demoted_nor_removed() {
    let app = TestApp::spawn().await;
    let m = members(&app).await;
    let me_path = format!("{}/{}", m.members, m.first_admin.id);
    let problem = assert_problem(
        app.patch(&me_path, &m.first_admin.token, &json!({"role": "viewer"}))
            .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:annexa:problem:last-admin");
    assert_problem(app.delete(&me_path, &m.first_admin.token).await, 409).await;
}

#[tokio::test]
async fn with_a_second_admin_the_first_can_step_down() {
    let app = TestApp::spawn().await;
    let m = members(&app).await;
    let me_path = format!("{}/{}", m.members, m.first_admin.id);
    let bob_path = format!("{}/{}", m.members, m.bob.id);
    let res = app
        .patch(&bob_path, &m.first_admin.token, &json!({"role": "admin"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["version"], 2);
    let res = app
        .patch(&me_path, &m.first_admin.token, &json!({"role": "viewer"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Now a viewer, the first admin manages nobody.
    assert_problem(
        app.patch(&bob_path, &m.first_admin.token, &json!({"role": "viewer"}))
            .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn a_removed_member_loses_access_at_once() {
    let app = TestApp::spawn().await;
    let m = members(&app).await;
    let me_path = format!("{}/{}", m.members, m.first_admin.id);
    let res = app
        .patch(
            &format!("{}/{}", m.members, m.bob.id),
            &m.first_admin.token,
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.delete(&me_path, &m.bob.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(
            &format!("/api/v1/organizations/{}", m.org),
            &m.first_admin.token,
        )
        .await,
        404,
    )
    .await;
    assert_problem(app.get(&me_path, &m.bob.token).await, 404).await;
}

#[tokio::test]
async fn service_accounts_authenticate_with_client_credentials() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    let path = format!("/api/v1/organizations/{org}/service-accounts");
    let res = app
        .post(
            &path,
            &app.admin_token,
            &json!({"name": "jira", "role": "editor"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = body(res).await;
    let client_id = created["client_id"].as_str().expect("client id").to_owned();
    let secret = created["client_secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    let listed = body(app.get(&path, &app.admin_token).await).await;
    assert!(
        listed["items"][0].get("client_secret").is_none(),
        "secrets are never listed"
    );
    use sea_orm::EntityTrait;
    let stored =
        entity::service_account::Entity::find_by_id(created["id"].as_str().expect("id").to_owned())
            .one(&app.state.db)
            .await
            .expect("query")
            .expect("row");
    assert!(
        !stored.secret_hash.contains(&secret),
        "the secret is stored hashed"
    );

    let (status, tokens) = token_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(tokens.get("refresh_token").is_none());
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let me = body(app.get("/api/v1/me", &access).await).await;
    assert_eq!(
        (me["kind"].as_str(), me["memberships"][0]["role"].as_str()),
        (Some("service_account"), Some("editor"))
    );

    // HTTP Basic client authentication works too; a wrong secret is invalid_client (401).
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let (status, err) = token_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );

    // An editor service account may not manage service accounts; another organization is 404.
    assert_problem(app.get(&path, &access).await, 403).await;
    let other = app.organization("Other").await;
    assert_problem(
        app.get(&format!("/api/v1/organizations/{other}"), &access)
            .await,
        404,
    )
    .await;

    // Deleting it stops its tokens at once.
    let res = app
        .delete(
            &format!("{path}/{}", created["id"].as_str().expect("id")),
            &app.admin_token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get("/api/v1/me", &access).await, 401).await;
}

/// A service account of `org` with `role`, and an access token for it (client credentials).
async fn service_account_token(app: &TestApp, org: &str, role: Role) -> (String, String) {
    let account = app
        .service_account(org, &format!("{} robot", role.as_str()), role)
        .await;
    let (status, tokens) = token_form(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &account.client_id),
            ("client_secret", &account.client_secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    (
        account.id,
        tokens["access_token"].as_str().expect("access").to_owned(),
    )
}

#[tokio::test]
async fn concurrent_callers_sharing_lookups_each_get_their_own_standing() {
    let app = TestApp::spawn().await;
    let org = app.organization("Acme").await;
    let other = app.organization("Globex").await;
    let viewer = app.member(&org, Role::Viewer).await;
    let outsider = app.member(&other, Role::Admin).await;
    let revoked = mint(&app.state, &format!("user:{}", viewer.id));
    let res = app
        .request(Method::POST, "/api/v1/auth/revoke", None)
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let (robot_id, robot) = service_account_token(&app, &org, Role::Editor).await;
    let (_, foreign_robot) = service_account_token(&app, &other, Role::Viewer).await;
    let (gone_id, gone_robot) = service_account_token(&app, &other, Role::Viewer).await;
    let res = app
        .delete(
            &format!("/api/v1/organizations/{other}/service-accounts/{gone_id}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let ghost = mint(&app.state, "user:0193a0c2-0000-7000-8000-000000000000");
    let alien = mint(&app.state, "robot:0193a0c2-0000-7000-8000-000000000000");

    // (token, path, status, the `id` that /me must answer with)
    let controls = format!("/api/v1/organizations/{org}/controls?limit=5");
    let me = "/api/v1/me".to_owned();
    let cases = [
        (viewer.token.as_str(), &controls, 200, None),
        (viewer.token.as_str(), &me, 200, Some(viewer.id.as_str())),
        (outsider.token.as_str(), &controls, 404, None),
        (
            outsider.token.as_str(),
            &me,
            200,
            Some(outsider.id.as_str()),
        ),
        (revoked.as_str(), &controls, 401, None),
        (revoked.as_str(), &me, 401, None),
        (robot.as_str(), &controls, 200, None),
        (robot.as_str(), &me, 200, Some(robot_id.as_str())),
        (foreign_robot.as_str(), &controls, 404, None),
        (gone_robot.as_str(), &me, 401, None),
        (ghost.as_str(), &controls, 401, None),
        (alien.as_str(), &me, 401, None),
    ];
    // Every case several times over, all in flight at once: lookups that run while others are
    // waiting are shared by callers with different tokens and organizations.
    let requests = (0..6)
        .flat_map(|_| cases.iter())
        .map(|(token, path, status, id)| {
            let app = &app;
            async move {
                let res = app.get(path, token).await;
                assert_eq!(res.status().as_u16(), *status, "{path}");
                if let Some(id) = id {
                    assert_eq!(body(res).await["id"].as_str(), Some(*id), "{path}");
                }
            }
        });
    futures_util::future::join_all(requests).await;
}
