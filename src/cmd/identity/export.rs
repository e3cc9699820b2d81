//! `identity export`.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};

pub const EXAMPLES: &str = "Examples:\n  kubectl konduktor identity export";

#[derive(Debug, Args)]
pub struct ExportArgs {}

pub async fn run(_ctx: &Context, _args: &ExportArgs) -> Result<ExitCode> {
    Err(Error::new(ErrorKind::Input, "not written yet"))
}
