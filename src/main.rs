//! The `annexa` command: dispatches to serve, migrate, openapi or user management.

use annexa::{
    auth::password,
    config::{Cli, Command, UserCommand},
    domain::identity::check_password,
    service::identity,
    startup::{Application, StartupError},
    store::db,
    telemetry,
};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("annexa: {message}");
    std::process::exit(1);
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
        Command::Serve => {
            telemetry::init(settings.log_format);
            let bind = settings.bind;
            let app = match Application::build(settings).await {
                Ok(app) => app,
                Err(err) => fail(err),
            };
            tracing::info!(%bind, port = app.port(), "annexa listening");
            if let Err(err) = app.run_until_stopped().await {
                fail(err);
            }
        }
    }
}
