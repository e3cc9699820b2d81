//! One module per subcommand, each glue: clap arguments in, one call into
//! the core, output out. What they share is in [`prelude`].

pub mod apply;
pub mod completion;
pub mod confirm;
pub mod diff;
pub mod export;
pub mod identity;
pub mod prelude;
pub mod render_job;
pub mod secret;
pub mod targets;
pub mod whoami;
