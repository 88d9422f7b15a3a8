//! The harness: `TestApp` spawns the application on a fresh database, talks HTTP to it and
//! mints principals; `body` and `assert_problem` read its answers.

use std::sync::OnceLock;

use annexa::{
    config::Settings,
    domain::role::Role,
    service::identity::{self, NewUser},
    startup::Application,
    state::AppState,
    store::db,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

/// The bootstrap admin of every test app.
pub const ADMIN_EMAIL: &str = "admin@annexa.test";
/// Its password.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
/// The password of every user the helpers create.
pub const USER_PASSWORD: &str = "another long passphrase";

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn create() -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string();
        match std::env::var("ANNEXA_TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("annexa_test_{id}");
                let conn = Database::connect(&admin_url)
                    .await
                    .expect("connect to ANNEXA_TEST_DATABASE_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("database URL");
                url.set_path(&format!("/{name}"));
                Self {
                    url: url.to_string(),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("annexa-test-{id}.db"));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    std::fs::remove_file(p).ok();
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async {
                        if let Ok(conn) = Database::connect(&admin_url).await {
                            conn.execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await
                            .ok();
                        }
                    });
                })
                .join()
                .ok();
            }
        }
    }
}

/// A running application with its own database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub admin_token: String,
    pub admin_id: String,
    _db: TestDb,
}

/// A user with a token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// A password hash shared by helper-created users (hashing once keeps the tests fast).
static USER_HASH: OnceLock<String> = OnceLock::new();

impl TestApp {
    /// Spawns the app with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns the app after adjusting its settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create().await;
        let mut settings = Settings::with_database(&db.url);
        settings.bootstrap_admin_email = Some(ADMIN_EMAIL.to_owned());
        settings.bootstrap_admin_password = Some(ADMIN_PASSWORD.to_owned());
        settings.workers = Some(1);
        settings.db_pool_size = 5;
        // No rate limits unless a test asks for them (tests/api/rate_limits.rs).
        settings.rate_limit_per_minute = 0;
        settings.token_rate_limit_per_minute = 0;
        adjust(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let admin = entity::user::Entity::find_by_email(&state.db, ADMIN_EMAIL).await;
        let admin_token = mint(&state, &format!("user:{}", admin.id));
        Self {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            state,
            admin_token,
            admin_id: admin.id,
            _db: db,
        }
    }

    /// An absolute URL for a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request with an optional bearer token.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .expect("request")
    }

    /// A JSON request with a token.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Response {
        self.request(method, path, Some(token))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// POST a JSON body with a token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    /// PATCH a JSON body with a token.
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send_json(Method::PATCH, path, token, body).await
    }

    /// A request without a body (DELETE, or a POST/PUT that takes none) with a token.
    pub async fn call(&self, method: Method, path: &str, token: &str) -> Response {
        self.request(method, path, Some(token))
            .send()
            .await
            .expect("request")
    }

    /// DELETE with a token.
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.call(Method::DELETE, path, token).await
    }

    /// The JSON body of a GET that must answer 200.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        body(res).await
    }

    /// Follows `next_cursor` from `path` to the end and returns every item (40 a page).
    pub async fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{separator}limit=40");
        loop {
            let page = self.get_json(&next, &self.admin_token).await;
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}{separator}limit=40&cursor={cursor}"),
                None => return items,
            }
        }
    }

    /// Creates a user directly (shared password hash) and mints a token for it.
    pub async fn user(&self, email: &str, platform_admin: bool) -> Actor {
        let hash = match USER_HASH.get() {
            Some(hash) => hash.clone(),
            None => {
                let hash = annexa::auth::password::hash(USER_PASSWORD)
                    .await
                    .expect("hash");
                USER_HASH.get_or_init(|| hash).clone()
            }
        };
        let txn = db::begin_write(&self.state.db).await.expect("txn");
        let user = identity::insert_user(
            &txn,
            "system:test",
            None,
            NewUser {
                email: email.to_owned(),
                name: email.to_owned(),
                password_hash: hash,
                is_platform_admin: platform_admin,
            },
        )
        .await
        .expect("insert user");
        txn.commit().await.expect("commit");
        Actor {
            token: mint(&self.state, &format!("user:{}", user.id)),
            id: user.id,
            email: user.email,
        }
    }

    /// Creates an organization through the API (as the platform admin); returns its id.
    pub async fn organization(&self, name: &str) -> String {
        let res = self
            .send_json(
                Method::POST,
                "/api/v1/organizations",
                &self.admin_token,
                &json!({"name": name}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        body(res).await["id"].as_str().expect("id").to_owned()
    }

    /// Creates a user and makes it a member of `org_id` with `role`.
    pub async fn member(&self, org_id: &str, role: Role) -> Actor {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            uuid::Uuid::now_v7().simple()
        );
        let actor = self.user(&email, false).await;
        let res = self
            .send_json(
                Method::POST,
                &format!("/api/v1/organizations/{org_id}/members"),
                &self.admin_token,
                &json!({"user_id": actor.id, "role": role.as_str()}),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap_or_default()
        );
        actor
    }
}

/// Mints an access token for a subject (`user:<id>` or `service_account:<id>`).
pub fn mint(state: &AppState, sub: &str) -> String {
    state.jwt.issue(sub.to_owned()).expect("token").0
}

/// The JSON body of a response.
pub async fn body(res: Response) -> Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// The `id` of a JSON object.
pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// The ids of a page's items, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect()
}

/// How many items a page holds.
pub fn item_count(page: &Value) -> usize {
    page["items"].as_array().expect("items").len()
}

/// Asserts a problem+json answer with `status` and returns its body.
pub async fn assert_problem(res: Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let problem: Value = serde_json::from_str(&text).expect("problem JSON");
    assert_eq!(problem["status"], status);
    assert!(
        problem["type"]
            .as_str()
            .unwrap_or("")
            .starts_with("urn:annexa:problem:")
    );
    assert!(problem["title"].is_string() && problem["detail"].is_string());
    assert!(problem["instance"].is_string() && problem["request_id"].is_string());
    problem
}

/// Small extension to find a user by email in tests.
pub trait FindByEmail {
    async fn find_by_email(db: &sea_orm::DatabaseConnection, email: &str) -> entity::user::Model;
}

impl FindByEmail for entity::user::Entity {
    async fn find_by_email(db: &sea_orm::DatabaseConnection, email: &str) -> entity::user::Model {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(email))
            .one(db)
            .await
            .expect("query")
            .expect("user exists")
    }
}

/// Statements executed while `f` runs (the app runs nothing else meanwhile).
pub async fn queries_during<F: std::future::Future<Output = reqwest::Response>>(
    app: &TestApp,
    f: F,
) -> (u64, reqwest::Response) {
    let before = app.state.queries.load(std::sync::atomic::Ordering::SeqCst);
    let res = f.await;
    (
        app.state.queries.load(std::sync::atomic::Ordering::SeqCst) - before,
        res,
    )
}
