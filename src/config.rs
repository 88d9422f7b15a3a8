//! Settings from the command line and the environment (`ANNEXA_*`), validated before anything binds.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The `annexa` command line.
#[derive(Debug, Parser)]
#[command(
    name = "annexa",
    version,
    about = "Annexa: a headless JSON API for ISO/IEC 27001 audit readiness.",
    long_about = "Annexa: a headless JSON API for ISO/IEC 27001 audit readiness.\n\n\
                  Every option can also be set through the environment variable shown beside it."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; `serve` when no command is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, load the catalog and serve the API (the default).
    Serve,
    /// Like `serve`, with a demo organization (an AI company, seeded once per database) and
    /// instructions to try it printed at start.
    Demo,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document to standard output.
    Openapi,
    /// Manage users from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent copy of the SQLite database to a new file while the server runs
    /// (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
    /// Replace the SQLite database with a backup, after checking it (stop the server first;
    /// PostgreSQL: use pg_restore).
    Restore(RestoreArgs),
}

/// Arguments of `annexa backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist.
    #[arg(long)]
    pub to: std::path::PathBuf,
}

/// Arguments of `annexa restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore (a file written by `annexa backup`).
    #[arg(long)]
    pub from: std::path::PathBuf,
    /// Replace an existing database.
    #[arg(long)]
    pub force: bool,
}

/// `annexa user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (optionally a platform admin).
    Create(UserCreateArgs),
}

/// Arguments of `annexa user create`.
#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// The user's email address (their login name).
    #[arg(long)]
    pub email: String,
    /// The password, at least 12 characters.
    #[arg(long, env = "ANNEXA_USER_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The display name (defaults to the email address).
    #[arg(long)]
    pub name: Option<String>,
    /// Make the user a platform admin (creates organizations and users, acts as admin everywhere).
    #[arg(long)]
    pub platform_admin: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// SQLite's `synchronous` setting: how often a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSynchronous {
    /// Every commit reaches the disk before it is acknowledged: nothing acknowledged is lost on
    /// a power failure (the default).
    Full,
    /// WAL checkpoints reach the disk, single commits may not: a process crash loses nothing, a
    /// power failure may lose the last acknowledged transactions. Faster writes.
    Normal,
}

/// Service settings.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: a SQLite file (`sqlite://annexa.db`, created if missing) or PostgreSQL (`postgres://user@host/db`).
    #[arg(long, global = true, env = "ANNEXA_DATABASE_URL", default_value = "sqlite://annexa.db", value_parser = parse_database_url)]
    pub database_url: String,
    /// Address and port to listen on.
    #[arg(
        long,
        global = true,
        env = "ANNEXA_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,
    /// HS256 signing key for access tokens (at least 32 bytes). When unset, a random one is generated once and kept in the database.
    #[arg(long, global = true, env = "ANNEXA_JWT_SECRET", hide_env_values = true, value_parser = parse_jwt_secret)]
    pub jwt_secret: Option<String>,
    /// Former signing keys, comma-separated: tokens they signed are still accepted until they
    /// expire (key rotation, docs/identity.md). Each at least 32 bytes.
    #[arg(long, global = true, env = "ANNEXA_JWT_PREVIOUS_SECRETS", hide_env_values = true, value_delimiter = ',', value_parser = parse_previous_secret)]
    pub jwt_previous_secrets: Vec<String>,
    /// Largest evidence file accepted, in bytes.
    #[arg(long, global = true, env = "ANNEXA_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_upload_bytes: u64,
    /// Log format: `pretty` or `json`. The level is set with `RUST_LOG` (default `info`).
    #[arg(
        long,
        global = true,
        env = "ANNEXA_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
    /// Email of the platform admin created on first start when there are no users.
    #[arg(long, global = true, env = "ANNEXA_BOOTSTRAP_ADMIN_EMAIL")]
    pub bootstrap_admin_email: Option<String>,
    /// Password of that admin; when unset, a random one is printed once to the console.
    #[arg(
        long,
        global = true,
        env = "ANNEXA_BOOTSTRAP_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub bootstrap_admin_password: Option<String>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, global = true, env = "ANNEXA_ACCESS_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u64).range(30..=86_400))]
    pub access_token_ttl: u64,
    /// SQLite only: `full` (every acknowledged commit survives a power failure) or `normal`
    /// (faster; a power failure may lose the last commits). PostgreSQL is unaffected.
    #[arg(
        long,
        global = true,
        env = "ANNEXA_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteSynchronous,
    /// Database connection pool size.
    #[arg(long, global = true, env = "ANNEXA_DB_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub db_pool_size: u32,
    /// Memory for values served again while their organization's data is unchanged (control
    /// stats, readiness reports, rendered list pages), in MiB (0 turns the cache off).
    #[arg(long, global = true, env = "ANNEXA_CACHE_MB", default_value_t = 16, value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub cache_mb: u32,
    /// How often a readiness snapshot of every adopted framework is stored: seconds, or with a
    /// unit (`90s`, `30m`, `12h`, `1d`).
    #[arg(long, global = true, env = "ANNEXA_SNAPSHOT_INTERVAL", default_value = "1d", value_parser = parse_interval)]
    pub snapshot_interval: u64,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, global = true, env = "ANNEXA_WORKERS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,
    /// Allow webhook endpoints on plain `http` and on loopback, private and link-local
    /// addresses: for local setups and tests only.
    #[arg(long, global = true, env = "ANNEXA_WEBHOOK_ALLOW_PRIVATE", default_value = "false", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,
    /// Run the webhook delivery worker in this process (replicas may all run one).
    #[arg(long, global = true, env = "ANNEXA_WEBHOOK_WORKER", default_value = "true", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_worker: bool,
    /// Delays between webhook attempts after a failure, comma-separated (`5s,1m,5m,30m,2h,5h,8h,8h`):
    /// their count is the number of retries.
    #[arg(long, global = true, env = "ANNEXA_WEBHOOK_RETRY_SCHEDULE", default_value = "5s,1m,5m,30m,2h,5h,8h,8h", value_parser = parse_schedule)]
    pub webhook_retry_schedule: RetrySchedule,
    /// How long one webhook request may take (`10s`).
    #[arg(long, global = true, env = "ANNEXA_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_delay)]
    pub webhook_timeout: Duration,
    /// How often the webhook worker looks for due deliveries that another replica queued
    /// (`1s`); its own are sent at once.
    #[arg(long, global = true, env = "ANNEXA_WEBHOOK_POLL_INTERVAL", default_value = "1s", value_parser = parse_delay)]
    pub webhook_poll_interval: Duration,
    /// Webhook requests in flight at once per process.
    #[arg(long, global = true, env = "ANNEXA_WEBHOOK_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub webhook_concurrency: u16,
    /// Requests a minute one caller (a user or a service account) may make, counted by each
    /// replica on its own; 0 turns the limit off.
    #[arg(long, global = true, env = "ANNEXA_RATE_LIMIT_PER_MINUTE", default_value_t = 1200, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub rate_limit_per_minute: u32,
    /// Requests one caller may make at once before the per-minute rate applies (default: the
    /// per-minute quota).
    #[arg(long, global = true, env = "ANNEXA_RATE_LIMIT_BURST", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_burst: Option<u32>,
    /// Token requests a minute from one client address (the peer of the connection); 0 turns
    /// the limit off.
    #[arg(long, global = true, env = "ANNEXA_TOKEN_RATE_LIMIT_PER_MINUTE", default_value_t = 120, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub token_rate_limit_per_minute: u32,
    /// This process's name as a webhook worker, unique among running replicas and kept across
    /// restarts, so that a restart resumes its own deliveries at once (default: the host name
    /// and the bind address).
    #[arg(long, global = true, env = "ANNEXA_WORKER_ID", value_parser = parse_worker_id)]
    pub worker_id: Option<String>,
}

/// The delays between webhook attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(crate::domain::webhook::DEFAULT_RETRY_SCHEDULE.to_vec())
    }
}

/// Parses `250ms`, `5s`, `30m`, `2h`, `1d` or bare seconds (at least a millisecond, at most a week).
pub fn parse_delay(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let bad = || format!("`{value}` is not a delay like 500ms, 5s, 30m or 2h");
    let (number, unit) = match value.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let millis = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => return Err(bad()),
    }
    .ok_or_else(bad)?;
    if millis == 0 || millis > 7 * 86_400_000 {
        return Err("must be between 1ms and 7d".to_owned());
    }
    Ok(Duration::from_millis(millis))
}

fn parse_schedule(value: &str) -> Result<RetrySchedule, String> {
    let delays = value
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(parse_delay)
        .collect::<Result<Vec<_>, _>>()?;
    if delays.len() > 20 {
        return Err("at most 20 retries".to_owned());
    }
    Ok(RetrySchedule(delays))
}

impl Settings {
    /// Settings with every default, for a given database (tests and tools).
    pub fn with_database(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: None,
            jwt_previous_secrets: Vec::new(),
            max_upload_bytes: 25 * 1024 * 1024,
            log_format: LogFormat::Pretty,
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            access_token_ttl: 900,
            db_pool_size: 10,
            sqlite_synchronous: SqliteSynchronous::Full,
            cache_mb: 16,
            workers: None,
            snapshot_interval: 86_400,
            webhook_allow_private: false,
            webhook_worker: true,
            webhook_retry_schedule: RetrySchedule::default(),
            webhook_timeout: Duration::from_secs(10),
            webhook_poll_interval: Duration::from_secs(1),
            webhook_concurrency: 16,
            rate_limit_per_minute: 1200,
            rate_limit_burst: None,
            token_rate_limit_per_minute: 120,
            worker_id: None,
        }
    }

    /// Whether the database is SQLite (as opposed to PostgreSQL).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn parse_database_url(value: &str) -> Result<String, String> {
    let parsed = url::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    match parsed.scheme() {
        "sqlite" | "postgres" | "postgresql" => Ok(value.to_owned()),
        other => Err(format!(
            "unsupported scheme `{other}` (use sqlite://… or postgres://…)"
        )),
    }
}

/// Parses `3600`, `90s`, `30m`, `12h` or `1d` into seconds (at least 1).
pub fn parse_interval(value: &str) -> Result<u64, String> {
    let value = value.trim();
    let (number, unit) = match value.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{value}` is not a duration like 3600, 30m, 12h or 1d"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => {
            return Err(format!(
                "`{value}` is not a duration like 3600, 30m, 12h or 1d"
            ));
        }
    };
    if seconds == 0 {
        return Err("must be at least one second".to_owned());
    }
    Ok(seconds)
}

fn parse_worker_id(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() || value.len() > 200 {
        return Err("must be 1 to 200 characters".to_owned());
    }
    Ok(value.to_owned())
}

/// A former JWT secret; an empty entry (`ANNEXA_JWT_PREVIOUS_SECRETS=`, a trailing comma) is none.
fn parse_previous_secret(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    parse_jwt_secret(value)
}

fn parse_jwt_secret(value: &str) -> Result<String, String> {
    if value.len() < 32 {
        return Err("must be at least 32 bytes long".to_owned());
    }
    Ok(value.to_owned())
}

impl Cli {
    /// Parses the command line; on a bad value prints one clear line and exits non-zero.
    pub fn parse_or_exit() -> Self {
        match Self::try_parse() {
            Ok(cli) => cli,
            Err(err) => {
                use clap::error::ErrorKind;
                if matches!(
                    err.kind(),
                    ErrorKind::DisplayHelp
                        | ErrorKind::DisplayVersion
                        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                ) {
                    err.exit();
                }
                let rendered = err.render().to_string();
                let line = rendered
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid arguments")
                    .trim_start_matches("error: ");
                eprintln!("annexa: configuration error: {line}");
                std::process::exit(2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{RetrySchedule, parse_delay, parse_interval, parse_schedule, parse_worker_id};

    #[test]
    fn delays_and_schedules() {
        assert_eq!(parse_delay("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_delay("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_delay("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_delay("0s").is_err());
        assert!(parse_delay("8d").is_err());
        assert!(parse_delay("5 minutes").is_err());
        assert_eq!(
            parse_schedule("5s,1m,5m,30m,2h,5h,8h,8h"),
            Ok(RetrySchedule::default())
        );
        assert_eq!(parse_schedule(""), Ok(RetrySchedule(Vec::new())));
        assert!(parse_schedule("1s,later").is_err());
    }

    #[test]
    fn worker_ids() {
        assert_eq!(parse_worker_id(" replica-1 "), Ok("replica-1".to_owned()));
        assert!(parse_worker_id("  ").is_err());
        assert!(parse_worker_id(&"x".repeat(201)).is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("3600"), Ok(3600));
        assert_eq!(parse_interval("90s"), Ok(90));
        assert_eq!(parse_interval("30m"), Ok(1800));
        assert_eq!(parse_interval("12h"), Ok(43_200));
        assert_eq!(parse_interval("1d"), Ok(86_400));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("1w").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
