//! `identity candidates`.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};

pub const EXAMPLES: &str = "Examples:\n  kubectl konduktor identity candidates";

#[derive(Debug, Args)]
pub struct CandidatesArgs {}

pub async fn run(_ctx: &Context, _args: &CandidatesArgs) -> Result<ExitCode> {
    Err(Error::new(ErrorKind::Input, "not written yet"))
}
