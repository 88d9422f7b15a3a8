//! Shared test code: `app` spawns and talks to the application, `fixtures` sets up the data
//! that many tests need (typed, and checked as it is made).

mod app;
mod fixtures;

pub use app::*;
pub use fixtures::*;
