//! Seeds a database with realistic organizations through the service layer, for demos and the
//! load benchmark: `cargo run --release --example seed -- <database-url> <orgs> <scale> [big-orgs] [big-scale]`.
//! Prints one line per organization: `org=<id> scale=<n> auditor=<user-id> auditor_email=<email>
//! editor=<user-id> editor_email=<email> control=<a control id>`; every seeded user's password is
//! `seeded password 1`.

use annexa::{
    config::Settings,
    demo::{SeedSpec, seed_organization},
    startup::prepare,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "sqlite://annexa.db".to_owned());
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (orgs, scale, big_orgs, big_scale) = (arg(1, 1), arg(2, 1), arg(3, 0), arg(4, 10));
    let state = prepare(Settings::with_database(&url)).await?;
    for i in 0..orgs + big_orgs {
        let s = if i < orgs { scale } else { big_scale };
        let started = std::time::Instant::now();
        let seeded = seed_organization(
            &state.db,
            &format!("Seeded org {i} ({s}x)"),
            &SeedSpec::standard(s),
            "seeded password 1",
            i as u64,
        )
        .await?;
        eprintln!(
            "seeded org {i} at {s}x in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        println!(
            "org={} scale={s} auditor={} auditor_email={} editor={} editor_email={} control={}",
            seeded.org_id,
            seeded.auditor_user_id,
            seeded.auditor_email,
            seeded.editor_user_id,
            seeded.editor_email,
            seeded.control_ids.first().map_or("", String::as_str)
        );
    }
    Ok(())
}
