//! `identity adopt`.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};

pub const EXAMPLES: &str = "Examples:\n  kubectl konduktor identity adopt";

#[derive(Debug, Args)]
pub struct AdoptArgs {}

pub async fn run(_ctx: &Context, _args: &AdoptArgs) -> Result<ExitCode> {
    Err(Error::new(ErrorKind::Input, "not written yet"))
}
