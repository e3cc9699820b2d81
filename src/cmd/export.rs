//! `export`: a secrets.yaml that reproduces your current secrets.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};

pub const EXAMPLES: &str =
    "Examples:\n  kubectl konduktor export --values-dir ./values > secrets.yaml";

#[derive(Debug, Args)]
pub struct ExportArgs {}

pub async fn run(_ctx: &Context, _args: &ExportArgs) -> Result<ExitCode> {
    Err(Error::new(ErrorKind::Input, "not written yet"))
}
