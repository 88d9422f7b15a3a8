//! The `annexa` command: dispatches to serve, demo, migrate, openapi, user management, backup
//! or restore.

use annexa::{
    auth::password,
    config::{Cli, Command, Settings, UserCommand},
    demo::{self, SeedSpec},
    domain::identity::check_password,
    service::{backup, identity},
    startup::{self, Application, StartupError},
    store::db,
    telemetry,
};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("annexa: {message}");
    std::process::exit(1);
}

/// Serves until the process is stopped.
async fn serve(app: Application, bind: std::net::SocketAddr) {
    tracing::info!(%bind, port = app.port(), "annexa listening");
    if let Err(err) = app.run_until_stopped().await {
        fail(err);
    }
}

/// `annexa demo`: prepares as `serve` does, adds the demo organization unless the database has
/// it, binds, prints how to try it, then serves.
async fn demo(settings: Settings) {
    let bind = settings.bind;
    let result: Result<_, StartupError> = async {
        let state = startup::prepare(settings).await?;
        let started = std::time::Instant::now();
        let demo = demo::ensure_demo(&state.db, &SeedSpec::demo()).await?;
        if demo.created {
            tracing::info!(
                org_id = %demo.org_id,
                seconds = started.elapsed().as_secs_f64(),
                "demo organization seeded"
            );
        }
        Ok((Application::start(state)?, demo))
    }
    .await;
    let (app, demo) = result.unwrap_or_else(|err| fail(err));
    print!(
        "{}",
        demo::instructions(&demo, &demo::base_url(bind, app.port()))
    );
    serve(app, bind).await;
}

#[actix_web::main]
async fn main() {
    let cli = Cli::parse_or_exit();
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => print!("{}", annexa::api::openapi_json()),
        Command::Migrate => {
            telemetry::init(settings.log_format);
            let result = async {
                let conn = db::connect(&settings).await?;
                db::migrate(&conn).await
            }
            .await;
            match result {
                Ok(()) => println!("migrations applied"),
                Err(err) => fail(format!("migration failed: {err}")),
            }
        }
        Command::User(UserCommand::Create(args)) => {
            telemetry::init(settings.log_format);
            let result: Result<String, StartupError> = async {
                let (email, name) = identity::validate_new_user(&args.email, args.name.as_deref())?;
                check_password(&args.password)
                    .map_err(|m| StartupError(format!("password {m}")))?;
                let conn = db::connect(&settings).await?;
                db::migrate(&conn).await?;
                let hash = password::hash(&args.password).await?;
                let txn = db::begin_write(&conn).await?;
                let user = identity::insert_user(
                    &txn,
                    "system:cli",
                    None,
                    identity::NewUser {
                        email,
                        name,
                        password_hash: hash,
                        is_platform_admin: args.platform_admin,
                    },
                )
                .await?;
                txn.commit().await?;
                Ok(user.id)
            }
            .await;
            match result {
                Ok(id) => println!("created user {id}"),
                Err(err) => fail(err),
            }
        }
        Command::Backup(args) => {
            telemetry::init(settings.log_format);
            match backup::backup(&settings, &args.to).await {
                Ok(bytes) => println!("backup written to {} ({bytes} bytes)", args.to.display()),
                Err(err) => fail(format!("backup failed: {err}")),
            }
        }
        Command::Restore(args) => {
            telemetry::init(settings.log_format);
            match backup::restore(&settings, &args.from, args.force).await {
                Ok(done) => println!(
                    "restored {} into {}: {} audit chains verified, {} events",
                    args.from.display(),
                    done.target.display(),
                    done.chains,
                    done.events
                ),
                Err(err) => fail(format!("restore refused: {err}")),
            }
        }
        Command::Serve => {
            telemetry::init(settings.log_format);
            let bind = settings.bind;
            match Application::build(settings).await {
                Ok(app) => serve(app, bind).await,
                Err(err) => fail(err),
            }
        }
        Command::Demo => {
            telemetry::init(settings.log_format);
            demo(settings).await;
        }
    }
}
